// One share's first file downloaded through its share page in headless
// Chromium, to disk, timed from the click until the whole file is on disk;
// the page's memory sampled meanwhile. Plain shares download through their
// redirect to the store; encrypted ones (a link with its key after #) are
// decrypted by the page as they arrive, through its service worker (the
// save-file picker is taken away: a headless browser cannot answer it).
//   node bench/share-download.mjs <share link> <bytes expected> <download dir>
// Prints one JSON line: seconds, MB/s, the JS heap's and the renderers' peaks.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { openPage } from "./cdp-pipe.mjs";

const [link, expectedText, dir] = process.argv.slice(2);
const expected = Number(expectedText);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const MIB = 1024 * 1024;

/** Resident memory of Chromium's renderer processes (the page, and its
 * worker), in bytes: every renderer on the machine, so nothing else may run
 * a browser meanwhile (the bench runs alone). */
function renderersRss() {
  let total = 0;
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!command.includes("--type=renderer")) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (rss) total += Number(rss[1]) * 1024;
    } catch {
      // A process that ended meanwhile.
    }
  }
  return total;
}

const browser = await openPage();
try {
  await browser.browser("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: dir });
  await browser.page("Page.enable");
  await browser.page("Page.addScriptToEvaluateOnNewDocument", { source: "delete window.showSaveFilePicker;" });
  await browser.page("Page.navigate", { url: link });
  // The plain page's Download link, or the encrypted page's button once its names are open.
  const button = `document.querySelector("li.share-file button.share-download, a.share-download, .share-files a[href$='/1']")`;
  await browser.waitFor(`!!${button}`, 60_000);
  const before = { heap: (await browser.page("Runtime.getHeapUsage")).usedSize, rss: renderersRss() };
  let heapPeak = before.heap;
  let rssPeak = before.rss;
  const t0 = performance.now();
  await browser.evaluate(`${button}.click()`);
  let done = false;
  while (!done) {
    await sleep(100);
    heapPeak = Math.max(heapPeak, (await browser.page("Runtime.getHeapUsage")).usedSize);
    rssPeak = Math.max(rssPeak, renderersRss());
    done = readdirSync(dir).some((name) => !name.endsWith(".crdownload") && statSync(`${dir}/${name}`).size === expected);
    if (performance.now() - t0 > 1_800_000) throw new Error("the download did not finish in 30 minutes");
  }
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({
    seconds: Math.round(seconds * 1000) / 1000,
    mb_per_s: Math.round((expected / seconds / 1e6) * 10) / 10,
    page_heap_before_mib: Math.round((before.heap / MIB) * 10) / 10,
    page_heap_peak_mib: Math.round((heapPeak / MIB) * 10) / 10,
    renderers_rss_before_mib: Math.round(before.rss / MIB),
    renderers_rss_peak_mib: Math.round(rssPeak / MIB),
  }) + "\n");
} finally {
  await browser.close();
}
