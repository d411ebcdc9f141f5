// share-download.mjs in WebKit (../webkit.mjs: WebKitGTK's MiniBrowser, the
// engine of Safari), which has no save-file picker: one share's first file
// downloaded through its share page, to disk, timed until the whole file is
// in the download folder (WebKit writes under the file's own name as it
// goes); the web processes' private memory sampled meanwhile
// (timed-download.mjs).
//   node bench/share-download-webkit.mjs <share link> <bytes expected> <download dir>
// Prints one JSON line: seconds, MB/s, the largest web process's peak and all of theirs.
import { launchWebKit } from "../webkit.mjs";
import { processesUnder } from "./process-memory.mjs";
import { DOWNLOAD_BUTTON, timeDownload } from "./timed-download.mjs";

const [link, expectedText, dir] = process.argv.slice(2);

const browser = await launchWebKit(dir);
try {
  let button = null;
  await timeDownload({
    open: async (url) => {
      await browser.goto(url);
      button = await browser.find(DOWNLOAD_BUTTON, 60_000);
    },
    click: () => browser.click(button),
    errorLine: () => browser.evaluate(`return document.querySelector(".e2e-status.error")?.textContent`),
    // The page and its service worker share one here.
    processes: () => processesUnder(browser.pid, (command) => command.includes("/WebKitWebProcess ")),
    unfinished: () => false,
  }, { name: "webkit", field: "web_private", link, expected: Number(expectedText), dir });
} finally {
  await browser.close();
}
