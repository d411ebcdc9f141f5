// One large file uploaded through the real page, as a person would: headless
// Debian Chromium opens the page, the file is chosen on `input[type=file]`
// (the upload starts by itself), and the clock stops when the card shows its
// download link. Prints one JSON object per line on stdout.
//   node bench/big-upload.mjs http://127.0.0.1:3000/ /path/to/file.bin
//
// A handshake on stdin lets the caller read the servers' CPU time and memory
// around the upload alone (not the browser's start or the page's load):
//   -> {"event":"ready"}              page hydrated, file not chosen yet
//   <- any line                       choose the file now
//   -> {"event":"done", ...figures}   link shown (or {"event":"failed", ...})
//   <- any line                       close the browser and exit
// The browser stays open between "done" and the second line, so the caller
// can read the browser's own CPU time too. BENCH_WATCH_PARTS=0 leaves out
// the per-part request listeners (to see what watching costs).
import { chromium } from "@playwright/test";
import { basename } from "node:path";
import { HYDRATED, file, input, nextLine, say, timeoutMs, url } from "./handshake.mjs";

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
try {
  // BENCH_REDUCED_MOTION=1: the page as a person who asked for less motion
  // sees it (no transitions), to see what animating the progress bar costs.
  const context = await browser.newContext(process.env.BENCH_REDUCED_MOTION === "1" ? { reducedMotion: "reduce" } : {});
  const page = await context.newPage();
  // Each part PUT the page makes: when it started and ended, and how it ended.
  const parts = [];
  const started = new Map();
  const watching = process.env.BENCH_WATCH_PARTS !== "0";
  if (watching) {
    page.on("request", (request) => {
      if (request.method() === "PUT" && new URL(request.url()).searchParams.has("partNumber")) {
        started.set(request, performance.now());
      }
    });
    page.on("requestfinished", async (request) => {
      if (!started.has(request)) return;
      const response = await request.response();
      parts.push({
        number: Number(new URL(request.url()).searchParams.get("partNumber")),
        status: response?.status() ?? 0,
        checksum: "x-amz-checksum-sha256" in (await request.allHeaders()),
        start_ms: started.get(request),
        end_ms: performance.now(),
      });
    });
    page.on("requestfailed", (request) => {
      if (started.has(request)) parts.push({ status: 0, failure: request.failure()?.errorText });
    });
  }

  await page.goto(url);
  await page.waitForSelector(HYDRATED, { timeout: 30_000 });
  say({ event: "ready" });
  await nextLine();

  const t0 = performance.now();
  await page.locator("input[type=file]").setInputFiles(file);
  const card = page.locator(".card").filter({ hasText: basename(file) });
  // "done" with its link, as end2end/tests/multipart.spec.ts waits for it; or failed.
  const done = card.locator("a.download-link");
  const failed = page.locator(".card[data-state='failed']");
  await done.or(failed).first().waitFor({ state: "visible", timeout: timeoutMs });
  const seconds = (performance.now() - t0) / 1000;

  if (await failed.count()) {
    say({ event: "failed", seconds, card: await failed.first().innerText(), parts: parts.length });
  } else {
    const ok = parts.filter((p) => p.status === 200);
    const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    // The page keeps each finished upload's key and owner token (for new
    // links and deleting); the caller deletes the file with them afterwards.
    const recent = await page.evaluate(() => JSON.parse(localStorage.getItem("courier.recent-uploads") ?? "[]")[0]);
    say({
      event: "done",
      seconds,
      state: await card.getAttribute("data-state"),
      link: await done.getAttribute("href"),
      key: recent?.key,
      token: recent?.token,
      ...(watching && ok.length && {
        parts_sent: parts.length,
        parts_ok: ok.length,
        parts_with_checksum: ok.filter((p) => p.checksum).length,
        // From choosing to the first part's request, and from the last part's
        // answer to the link (completing: the store joins the parts).
        before_first_part_ms: Math.round(Math.min(...ok.map((p) => p.start_ms)) - t0),
        after_last_part_ms: Math.round(t0 + seconds * 1000 - Math.max(...ok.map((p) => p.end_ms))),
        part_ms_median: Math.round(median(ok.map((p) => p.end_ms - p.start_ms))),
      }),
    });
  }
  await nextLine();
} finally {
  await browser.close();
  input.close();
}
