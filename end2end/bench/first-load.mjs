// First load as a browser sees it: bytes on the wire for a first visit on a
// cold cache and for a repeat visit, and the time from navigation start until
// the uploader is hydrated. Headless Debian Chromium; prints one JSON object.
//   node bench/first-load.mjs http://127.0.0.1:3000/ [runs]
import { chromium } from "@playwright/test";

const url = process.argv[2];
const runs = Number(process.argv[3] ?? 5);
const HYDRATED = "form.upload[data-hydrated='true']";

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});

/** Loads the page once; returns wire bytes (all, and /pkg/ assets only) and ms to hydrated. */
async function visit(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const urls = new Map();
  let total = 0;
  let assets = 0;
  cdp.on("Network.responseReceived", (e) => urls.set(e.requestId, e.response.url));
  cdp.on("Network.loadingFinished", (e) => {
    total += e.encodedDataLength;
    if ((urls.get(e.requestId) ?? "").includes("/pkg/")) assets += e.encodedDataLength;
  });
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForSelector(HYDRATED, { timeout: 30_000 });
  const hydratedAt = await page.evaluate(() => window.__hydratedAt ?? performance.now());
  await page.waitForLoadState("networkidle");
  await cdp.detach();
  return { total, assets, hydratedAt };
}

const firsts = [];
let repeat;
for (let i = 0; i < runs; i++) {
  // A new context is a cold cache.
  const context = await browser.newContext();
  // Stamps the moment the uploader reports itself hydrated (CDP scripts are not subject to the CSP).
  await context.addInitScript((selector) => {
    new MutationObserver((_, observer) => {
      if (document.querySelector(selector)) {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { subtree: true, childList: true, attributes: true });
  }, HYDRATED);
  const page = await context.newPage();
  firsts.push(await visit(page));
  if (i === 0) repeat = await visit(page);
  await context.close();
}
await browser.close();

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({
  first_visit_bytes: median(firsts.map((f) => f.total)),
  first_visit_asset_bytes: median(firsts.map((f) => f.assets)),
  repeat_visit_bytes: repeat.total,
  repeat_visit_asset_bytes: repeat.assets,
  hydrated_ms_median: Math.round(median(firsts.map((f) => f.hydratedAt))),
  hydrated_ms_all: firsts.map((f) => Math.round(f.hydratedAt)),
}));
