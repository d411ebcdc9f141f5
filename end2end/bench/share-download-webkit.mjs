// share-download.mjs in WebKit (../webkit.mjs: WebKitGTK's MiniBrowser, the
// engine of Safari): one share's first file downloaded through its share
// page, to disk, timed from the click until the whole file is in the
// download folder. WebKit has no save-file picker, so an encrypted file
// streams through the page's service worker. The web processes' private
// memory is sampled meanwhile.
//   node bench/share-download-webkit.mjs <share link> <bytes expected> <download dir>
// Prints one JSON line: seconds, MB/s, the largest web process's peak and all of theirs.
import { readdirSync, statSync } from "node:fs";
import { launchWebKit } from "../webkit.mjs";
import { processesUnder } from "./process-memory.mjs";

const [link, expectedText, dir] = process.argv.slice(2);
const expected = Number(expectedText);
const sealed = link.includes("#");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const MIB = 1024 * 1024;
const mib = (bytes) => Math.round((bytes / MIB) * 10) / 10;

/** WebKit's web processes under `pid` (the page and its service worker
 * share one here): the largest one's private memory, and all of theirs. */
function webProcesses(pid) {
  const found = processesUnder(pid, (command) => command.includes("/WebKitWebProcess "));
  return {
    largest: Math.max(0, ...found.map((process) => process.private)),
    all: found.reduce((total, process) => total + process.private, 0),
  };
}

const browser = await launchWebKit(dir);
try {
  await browser.goto(link);
  // The plain page's Download link, or the encrypted page's button once its names are open.
  const button = await browser.find("li.share-file button.share-download, a.share-download, .share-files a[href$='/1']", 60_000);
  const before = webProcesses(browser.pid);
  const peak = { ...before };
  const t0 = performance.now();
  await browser.click(button);
  let asked = performance.now();
  for (;;) {
    await sleep(100);
    const now = webProcesses(browser.pid);
    peak.largest = Math.max(peak.largest, now.largest);
    peak.all = Math.max(peak.all, now.all);
    const whole = (name) => statSync(`${dir}/${name}`, { throwIfNoEntry: false })?.size === expected;
    if (readdirSync(dir).some(whole)) break;
    if (sealed && performance.now() - asked > 1000) {
      asked = performance.now();
      const line = await browser.evaluate(`return document.querySelector(".e2e-status.error")?.textContent`);
      if (line) throw new Error(`the download failed: ${line}`);
    }
    if (performance.now() - t0 > 1_800_000) throw new Error("the download did not finish in 30 minutes");
  }
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({
    browser: "webkit",
    seconds: Math.round(seconds * 1000) / 1000,
    mb_per_s: Math.round((expected / seconds / 1e6) * 10) / 10,
    web_private_before_mib: mib(before.largest),
    web_private_peak_mib: mib(peak.largest),
    all_web_private_before_mib: mib(before.all),
    all_web_private_peak_mib: mib(peak.all),
  }) + "\n");
} finally {
  await browser.close();
}
