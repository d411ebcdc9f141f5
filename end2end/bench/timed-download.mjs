// What share-download-firefox.mjs and share-download-webkit.mjs share: one
// share's first file downloaded through its share page in a browser without
// a save-file picker (an encrypted file streams through the page's service
// worker), timed from the click until the whole file is in the download
// folder, the browser's processes' private memory sampled meanwhile.
import { readdirSync, statSync } from "node:fs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const MIB = 1024 * 1024;
const mib = (bytes) => Math.round((bytes / MIB) * 10) / 10;
// The plain page's Download link, or the encrypted page's button once its names are open.
export const DOWNLOAD_BUTTON = "li.share-file button.share-download, a.share-download, .share-files a[href$='/1']";

/**
 * Prints one JSON line: `name`, seconds, MB/s, and the largest of
 * `browser.processes()`'s private memory before and at its peak, and all
 * of theirs, as `<field>_before_mib`, `<field>_peak_mib`, `all_<field>_…`.
 * `browser`: `open(link)`, resolving once the page shows its download
 * button; `click()`; `errorLine()`, the encrypted page's error sentence if
 * it says one; `processes()`, from bench/process-memory.mjs; and
 * `unfinished(name)`, true for a file the browser is still writing.
 */
export async function timeDownload(browser, { name, field, link, expected, dir }) {
  const sealed = link.includes("#");
  const memory = () => {
    const found = browser.processes();
    return {
      largest: Math.max(0, ...found.map((process) => process.private)),
      all: found.reduce((total, process) => total + process.private, 0),
    };
  };
  await browser.open(link);
  const before = memory();
  const peak = { ...before };
  const t0 = performance.now();
  await browser.click();
  let asked = performance.now();
  for (;;) {
    await sleep(100);
    const now = memory();
    peak.largest = Math.max(peak.largest, now.largest);
    peak.all = Math.max(peak.all, now.all);
    const whole = (file) => !browser.unfinished(file) && statSync(`${dir}/${file}`, { throwIfNoEntry: false })?.size === expected;
    if (readdirSync(dir).some(whole)) break;
    // An encrypted page says why it failed: asked once a second.
    if (sealed && performance.now() - asked > 1000) {
      asked = performance.now();
      const line = await browser.errorLine();
      if (line) throw new Error(`the download failed: ${line}`);
    }
    if (performance.now() - t0 > 1_800_000) throw new Error("the download did not finish in 30 minutes");
  }
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({
    browser: name,
    seconds: Math.round(seconds * 1000) / 1000,
    mb_per_s: Math.round((expected / seconds / 1e6) * 10) / 10,
    [`${field}_before_mib`]: mib(before.largest),
    [`${field}_peak_mib`]: mib(peak.largest),
    [`all_${field}_before_mib`]: mib(before.all),
    [`all_${field}_peak_mib`]: mib(peak.all),
  }) + "\n");
}
