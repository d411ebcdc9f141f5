// share-download.mjs in Firefox (../firefox.mjs), which has no save-file
// picker: one share's first file downloaded through its share page, to
// disk, timed until Firefox has the whole file under its name (it writes
// into a ".part" file first); the web content processes' private memory
// sampled meanwhile (timed-download.mjs).
//   node bench/share-download-firefox.mjs <share link> <bytes expected> <download dir>
// BENCH_LINK_PROXY (a port): behind that link (bench/link-proxy.mjs).
// Prints one JSON line: seconds, MB/s, the largest content process's peak and all of theirs.
import { launchFirefox } from "../firefox.mjs";
import { processesUnder } from "./process-memory.mjs";
import { DOWNLOAD_BUTTON, timeDownload } from "./timed-download.mjs";

const [link, expectedText, dir] = process.argv.slice(2);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const linkProxy = Number(process.env.BENCH_LINK_PROXY) || undefined;
const browser = await launchFirefox(dir, { linkProxy });
try {
  const pid = browser.process().pid;
  const page = await browser.newPage();
  let button = null;
  await timeDownload({
    open: async (url) => {
      await page.goto(url);
      button = await page.waitForSelector(DOWNLOAD_BUTTON, { timeout: 60_000 });
    },
    // Not waited on: WebDriver BiDi can hold a click that navigates (a plain
    // share's link) until the navigation ends, and a download never ends one.
    click: async () => {
      button.click().catch(() => {});
    },
    // Not waited on for long: while Firefox streams a download into the
    // page's frame, it can leave a script to the page unanswered until it is done.
    errorLine: () => Promise.race([
      page.evaluate(() => document.querySelector(".e2e-status.error")?.textContent),
      sleep(500).then(() => null),
    ]).catch(() => null),
    // The largest is taken for the page's: which process hosts a site is not on its command line.
    processes: () => processesUnder(pid, (command) => command.includes(" -contentproc ") && command.endsWith(" tab")),
    unfinished: (name) => name.endsWith(".part"),
  }, { name: "firefox", field: "content_private", link, expected: Number(expectedText), dir });
} finally {
  await browser.close();
}
