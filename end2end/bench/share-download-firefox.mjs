// share-download.mjs in Firefox (../firefox.mjs): one share's first file
// downloaded through its share page, to disk, timed from the click until
// Firefox has the whole file under its name (it writes into a ".part" file
// first). Firefox has no save-file picker, so an encrypted file streams
// through the page's service worker. The web content processes' private
// memory is sampled meanwhile.
//   node bench/share-download-firefox.mjs <share link> <bytes expected> <download dir>
// Prints one JSON line: seconds, MB/s, the largest content process's peak and all of theirs.
import { readdirSync, statSync } from "node:fs";
import { launchFirefox } from "../firefox.mjs";
import { processesUnder } from "./process-memory.mjs";

const [link, expectedText, dir] = process.argv.slice(2);
const expected = Number(expectedText);
const sealed = link.includes("#");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const MIB = 1024 * 1024;
const mib = (bytes) => Math.round((bytes / MIB) * 10) / 10;

/** Firefox's web content processes under `browserPid`: the largest one's
 * private memory (taken for the page's: which process hosts a site is not
 * on its command line) and all of theirs. */
function contentProcesses(browserPid) {
  const found = processesUnder(browserPid, (command) => command.includes(" -contentproc ") && command.endsWith(" tab"));
  return {
    largest: Math.max(0, ...found.map((process) => process.private)),
    all: found.reduce((total, process) => total + process.private, 0),
  };
}

const browser = await launchFirefox(dir);
try {
  const pid = browser.process().pid;
  const page = await browser.newPage();
  await page.goto(link);
  // The plain page's Download link, or the encrypted page's button once its names are open.
  const button = await page.waitForSelector("li.share-file button.share-download, a.share-download, .share-files a[href$='/1']", { timeout: 60_000 });
  const before = contentProcesses(pid);
  const peak = { ...before };
  const t0 = performance.now();
  // Not waited on: WebDriver BiDi can hold a click that navigates (a plain
  // share's link) until the navigation ends, and a download never ends one.
  button.click().catch(() => {});
  let asked = performance.now();
  for (;;) {
    await sleep(100);
    const now = contentProcesses(pid);
    peak.largest = Math.max(peak.largest, now.largest);
    peak.all = Math.max(peak.all, now.all);
    const whole = (name) => !name.endsWith(".part") && statSync(`${dir}/${name}`, { throwIfNoEntry: false })?.size === expected;
    if (readdirSync(dir).some(whole)) break;
    // An encrypted page says why it failed. Asked once a second, and not
    // waited on for long: while Firefox streams a download into the page's
    // frame, it can leave a script to the page unanswered until it is done.
    if (sealed && performance.now() - asked > 1000) {
      asked = performance.now();
      const line = await Promise.race([
        page.evaluate(() => document.querySelector(".e2e-status.error")?.textContent),
        sleep(500).then(() => null),
      ]).catch(() => null);
      if (line) throw new Error(`the download failed: ${line}`);
    }
    if (performance.now() - t0 > 1_800_000) throw new Error("the download did not finish in 30 minutes");
  }
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({
    browser: "firefox",
    seconds: Math.round(seconds * 1000) / 1000,
    mb_per_s: Math.round((expected / seconds / 1e6) * 10) / 10,
    content_private_before_mib: mib(before.largest),
    content_private_peak_mib: mib(peak.largest),
    all_content_private_before_mib: mib(before.all),
    all_content_private_peak_mib: mib(peak.all),
  }) + "\n");
} finally {
  await browser.close();
}
