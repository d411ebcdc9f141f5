// Where a share download's memory is: the share page's download as in
// share-download.mjs, with Chromium's own memory-infra dumps (the numbers
// chrome://tracing shows) taken every few seconds meanwhile; prints, per
// renderer process, each allocator's size in MiB.
//   node bench/memory-dump.mjs <share link> <bytes expected> <download dir> [picker]
// "picker": the page's save-file picker answered with a file of the origin's
// private file system (as the person's picked file, a FileSystemWritableFileStream).
// DUMP_CLASSES=1: Blink's garbage-collected heap by class and space instead
// (how issue 29 found the fetch body's read-ahead: blink::HeapVectorBacking<char>).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { openPage } from "./cdp-pipe.mjs";

const [link, expectedText, dir, mode] = process.argv.slice(2);
const expected = Number(expectedText);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes) => Math.round((bytes / 1048576) * 10) / 10;

const browser = await openPage();
const chunks = [];
let complete = null;
browser.on((message) => {
  if (message.method === "Tracing.dataCollected") chunks.push(...message.params.value);
  if (message.method === "Tracing.tracingComplete") complete?.();
});

function uss(pid) {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const field = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(rollup)?.[1] ?? 0) * 1024;
    return mib(field("Private_Clean") + field("Private_Dirty"));
  } catch {
    return null;
  }
}

async function dump() {
  chunks.length = 0;
  await browser.browser("Tracing.start", {
    traceConfig: { includedCategories: ["disabled-by-default-memory-infra"], memoryDumpConfig: { triggers: [] } },
    transferMode: "ReportEvents",
  });
  await browser.browser("Tracing.requestMemoryDump", { deterministic: false, levelOfDetail: "detailed" });
  const done = new Promise((resolve) => (complete = resolve));
  await browser.browser("Tracing.end");
  await done;
  const names = {};
  for (const event of chunks) {
    if (event.ph === "M" && event.name === "process_labels") names[event.pid] = event.args.labels;
    if (event.ph === "M" && event.name === "process_name") names[event.pid] = (names[event.pid] ?? "") + event.args.name;
  }
  const out = {};
  for (const event of chunks) {
    if (event.ph !== "v") continue;
    const allocators = event.args?.dumps?.allocators ?? {};
    const rows = {};
    for (const [name, node] of Object.entries(allocators)) {
      const depth = name.split("/").length;
      const size = node.attrs?.size ? parseInt(node.attrs.size.value, 16) : 0;
      const wanted = process.env.DUMP_CLASSES
        ? /^blink_objects\//.test(name) || /^blink_gc\/main\/heap\/[^/]+$/.test(name)
        : depth === 1 || /^partition_alloc\/partitions\/[^/]+$/.test(name) || /^v8\/[^/]+$/.test(name) ||
          /^malloc\/[^/]+$/.test(name) || /^blink_gc\/[^/]+$/.test(name);
      if (wanted && size > 1048576 / 2) rows[name] = mib(size);
    }
    const totals = event.args?.dumps?.process_totals ?? {};
    const label = names[event.pid] ?? "";
    if (!/^Renderer/.test(label)) continue;
    out[`${event.pid} ${label}`] = {
      ...Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, typeof v === "string" ? mib(parseInt(v, 16)) : v])),
      uss_mib: uss(event.pid),
      ...rows,
    };
  }
  return out;
}

try {
  await browser.browser("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: dir });
  await browser.page("Page.enable");
  if (mode === "picker") {
    await browser.page("Page.addScriptToEvaluateOnNewDocument", { source: `window.showSaveFilePicker = async () => {
      const root = await navigator.storage.getDirectory();
      return root.getFileHandle("download.bin", { create: true });
    };` });
  } else {
    await browser.page("Page.addScriptToEvaluateOnNewDocument", { source: "delete window.showSaveFilePicker;" });
  }
  await browser.page("Page.navigate", { url: link });
  const button = `document.querySelector("li.share-file button.share-download")`;
  await browser.waitFor(`!!${button}`, 60_000);
  console.log("before", JSON.stringify(await dump(), null, 1));
  const t0 = performance.now();
  await browser.evaluate(`${button}.click()`);
  let next = 3000;
  for (;;) {
    await sleep(100);
    const elapsed = performance.now() - t0;
    const saved = mode === "picker"
      ? await browser.evaluate(`/is saved/.test(document.querySelector(".e2e-status")?.textContent ?? "")`)
      : readdirSync(dir).some((name) => !name.endsWith(".crdownload") && statSync(`${dir}/${name}`).size === expected);
    if (saved) break;
    if (elapsed > next) {
      next += Number(process.env.DUMP_EVERY_MS ?? 4000);
      console.log(`at ${Math.round(elapsed / 1000)} s`, JSON.stringify(await dump(), null, 1));
    }
  }
  console.log(`done in ${Math.round(performance.now() - t0) / 1000} s`);
} finally {
  await browser.close();
}
