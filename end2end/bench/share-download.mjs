// One share's first file downloaded through its share page in headless
// Chromium, to disk, timed from the click until the whole file is on disk;
// the page's memory sampled meanwhile. Plain shares download through their
// redirect to the store; encrypted ones (a link with its key after #) are
// decrypted by the page as they arrive, through its service worker (the
// save-file picker is taken away: a headless browser cannot answer it), or
// with "picker" through the page's other path, its save-file picker
// answered with a file of the origin's private file system (the same
// FileSystemWritableFileStream a picked file gets; in the browser's profile,
// under TMPDIR).
//   node bench/share-download.mjs <share link> <bytes expected> <download dir> [picker]
// Prints one JSON line: seconds, MB/s, the JS heap's and the renderers' peaks.
import { readdirSync, statSync } from "node:fs";
import { openPage } from "./cdp-pipe.mjs";
import { processesUnder } from "./process-memory.mjs";

const [link, expectedText, dir, path = "worker"] = process.argv.slice(2);
const picker = path === "picker";
const expected = Number(expectedText);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const MIB = 1024 * 1024;
const mib = (bytes) => Math.round((bytes / MIB) * 10) / 10;

/** Memory of this Chromium's renderer processes (the page, and its service
 * worker), in bytes: resident, and private. */
function renderers(browserPid) {
  const found = processesUnder(browserPid, (command) => command.includes("--type=renderer"));
  return { rss: sum(found, "rss"), private: sum(found, "private") };
}
const sum = (found, field) => found.reduce((total, process) => total + process[field], 0);

const browser = await openPage();
try {
  await browser.browser("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: dir });
  await browser.page("Page.enable");
  await browser.page("Page.addScriptToEvaluateOnNewDocument", {
    source: picker
      ? `window.showSaveFilePicker = () => navigator.storage.getDirectory()
          .then((root) => root.getFileHandle("download.bin", { create: true }));`
      : "delete window.showSaveFilePicker;",
  });
  await browser.page("Page.navigate", { url: link });
  // The plain page's Download link, or the encrypted page's button once its names are open.
  const button = `document.querySelector("li.share-file button.share-download, a.share-download, .share-files a[href$='/1']")`;
  await browser.waitFor(`!!${button}`, 60_000);
  const pageHeap = async () => (await browser.page("Runtime.getHeapUsage")).usedSize;
  const workerHeap = async (session) => (await browser.send("Runtime.getHeapUsage", {}, session)).usedSize;
  const before = { heap: await pageHeap(), ...renderers(browser.pid) };
  const peak = { heap: before.heap, worker: 0, rss: before.rss, private: before.private };
  // The service worker (an encrypted download decrypts there): its JS heap too.
  let worker = null;
  const t0 = performance.now();
  await browser.evaluate(`${button}.click()`);
  let done = false;
  while (!done) {
    await sleep(100);
    if (!worker) {
      const { targetInfos } = await browser.browser("Target.getTargets");
      const found = targetInfos.find((target) => target.type === "service_worker");
      if (found) {
        worker = (await browser.browser("Target.attachToTarget", { targetId: found.targetId, flatten: true })).sessionId;
      }
    }
    peak.heap = Math.max(peak.heap, await pageHeap());
    if (worker) peak.worker = Math.max(peak.worker, await workerHeap(worker).catch(() => 0));
    const now = renderers(browser.pid);
    peak.rss = Math.max(peak.rss, now.rss);
    peak.private = Math.max(peak.private, now.private);
    if (picker) {
      // The page says "… is saved." once the file is closed, or why not.
      const line = await browser.evaluate(`(() => { const s = document.querySelector(".e2e-status"); return s && (s.classList.contains("error") ? "error: " : "") + s.textContent; })()`);
      if (/^error: /.test(line)) throw new Error(`the download failed: ${line}`);
      done = / is saved\.$/.test(line);
    } else {
      done = readdirSync(dir).some((name) => !name.endsWith(".crdownload") && statSync(`${dir}/${name}`).size === expected);
    }
    if (performance.now() - t0 > 1_800_000) throw new Error("the download did not finish in 30 minutes");
  }
  const seconds = (performance.now() - t0) / 1000;
  if (picker) {
    const saved = await browser.evaluate(`navigator.storage.getDirectory().then((root) => root.getFileHandle("download.bin")).then((h) => h.getFile()).then((f) => f.size)`);
    if (saved !== expected) throw new Error(`the saved file has ${saved} bytes, not ${expected}`);
  }
  process.stdout.write(JSON.stringify({
    path,
    seconds: Math.round(seconds * 1000) / 1000,
    mb_per_s: Math.round((expected / seconds / 1e6) * 10) / 10,
    page_heap_before_mib: mib(before.heap),
    page_heap_peak_mib: mib(peak.heap),
    worker_heap_peak_mib: mib(peak.worker),
    renderers_rss_before_mib: mib(before.rss),
    renderers_rss_peak_mib: mib(peak.rss),
    renderers_private_before_mib: mib(before.private),
    renderers_private_peak_mib: mib(peak.private),
  }) + "\n");
} finally {
  await browser.close();
}
