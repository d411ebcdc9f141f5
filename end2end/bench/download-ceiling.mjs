// The browser's own ceiling for a download a page makes: how fast one
// browser saves to disk a file its service worker hands it, beside the same
// browser's plain download of as many bytes. Courier's encrypted shares
// download that way (share-sw.js decrypts as the file streams), so what is
// slow here is the browser's, and no decryptor can beat it. Variants, one
// after another in each round:
//   plain               the server's own attachment
//   worker_passthrough  the worker answers with a same-origin fetch's body, untouched
//   worker_read         the worker reads that body in JS and enqueues each chunk
//                       into a stream of its own: a decrypting download without
//                       the decryption
//   worker_made         the worker's stream makes a new 64 KiB of zeros per pull,
//                       as a decryptor hands on records; nothing fetched
//   worker_posted       the page fetches the bytes and posts them (transferred) to
//                       the worker, which hands them on as they come, asking for
//                       more as its stream is read: a download the page
//                       decrypts, without the decryption
//   page_read           not a download: the page fetches the same bytes and reads
//                       them whole, discarding; timed in the page
//   page_blob           the page fetches the bytes, keeps them as Blobs of 64 MiB
//                       (which a browser may keep on disk), and saves the file
//                       from a blob: URL once it has them all: the way left
//                       without a service worker or a save-file picker
// A download is timed from the click until the whole file (its exact size,
// not under the browser's partial name) is in a download folder under
// TMPDIR, emptied between downloads. The server (this script's, on
// 127.0.0.1) sends one random MiB over and over, as fast as it is read.
//   node bench/download-ceiling.mjs <chromium|firefox|webkit> [bytes=1073741824] [rounds=2]
// Prints one JSON line per measurement to stderr as it goes, then one to
// stdout: each variant's median MB/s and every round's, and each median
// over plain's. A variant that fails says why there and is not tried again.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { Readable, pipeline } from "node:stream";

const [name, bytesText = "1073741824", roundsText = "2"] = process.argv.slice(2);
const bytes = Number(bytesText);
const rounds = Number(roundsText);
if (!["chromium", "firefox", "webkit"].includes(name) || !(Number.isSafeInteger(bytes) && bytes > 0)
  || !(Number.isSafeInteger(rounds) && rounds > 0)) {
  console.error("usage: node bench/download-ceiling.mjs <chromium|firefox|webkit> [bytes=1073741824] [rounds=2]");
  process.exit(2);
}
// Not worker_posted in WebKit: there no byte of it reached the download
// folder in 5 minutes (not looked into: WebKit's worker download is already
// faster than its plain one).
const VARIANTS = ["plain", "worker_passthrough", "worker_read", "worker_made", "worker_posted", "page_read", "page_blob"]
  .filter((variant) => !(name === "webkit" && variant === "worker_posted"));
const TIMEOUT_MS = 5 * 60_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mbPerS = (seconds) => Math.round((bytes / seconds / 1e6) * 10) / 10;
const progress = (line) => process.stderr.write(JSON.stringify(line) + "\n");

// The service worker and the page: sources of their own, sent as text (never run here).
function serviceWorker() {
  const CHUNK = 64 * 1024;
  // worker_posted: the page's port for each file, given before its download.
  const ports = new Map();
  self.addEventListener("message", (event) => {
    ports.set(event.data.file, event.ports[0]);
    event.ports[0].postMessage({ ready: true });
  });
  self.addEventListener("install", () => self.skipWaiting());
  self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
  self.addEventListener("fetch", (event) => {
    const url = new URL(event.request.url);
    const match = /^\/sw\/(passthrough|read|made|posted)\/([\w.-]+)$/.exec(url.pathname);
    // Everything else (the page, plain downloads, page_read) goes to the network.
    if (!match) return;
    const [, how, file] = match;
    const size = Number(url.searchParams.get("bytes"));
    // share-sw.js's headers.
    const headers = {
      "Content-Type": "application/octet-stream",
      "Content-Disposition": `attachment; filename="${file}"`,
      "Content-Length": String(size),
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    };
    event.respondWith(body(how, `/data/${file}?bytes=${size}`, size, file).then((stream) => new Response(stream, { headers })));
  });
  async function body(how, data, size, file) {
    if (how === "posted") {
      const port = ports.get(file);
      ports.delete(file);
      let answer = null;
      port.onmessage = (event) => answer(event.data);
      return new ReadableStream({
        pull(controller) {
          return new Promise((resolve) => {
            answer = resolve;
            port.postMessage({ more: true });
          }).then(({ chunks, done, error }) => {
            if (error) return controller.error(new Error(error));
            for (const chunk of chunks) controller.enqueue(new Uint8Array(chunk));
            if (done) controller.close();
          });
        },
      }, { highWaterMark: 8 });
    }
    if (how === "made") {
      let left = size;
      return new ReadableStream({
        pull(controller) {
          if (left <= 0) return controller.close();
          const n = Math.min(CHUNK, left);
          left -= n;
          controller.enqueue(new Uint8Array(n));
        },
      }, { highWaterMark: 8 });
    }
    const upstream = await fetch(data);
    if (!upstream.ok) throw new Error(`${data}: HTTP ${upstream.status}`);
    if (how === "passthrough") return upstream.body;
    const reader = upstream.body.getReader();
    return new ReadableStream({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    }, { highWaterMark: 8 });
  }
}

function pageScript() {
  // window.controlled once the worker controls the page; window.failed if it cannot.
  window.controlled = false;
  (async () => {
    if (!navigator.serviceWorker) throw new Error("no navigator.serviceWorker");
    await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    await new Promise((resolve) => {
      navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true });
      if (navigator.serviceWorker.controller) resolve();
    });
    window.controlled = true;
  })().catch((error) => {
    window.failed = String(error);
  });
  // The link a driver clicks (#go), in view for a WebDriver click.
  window.prepare = (href) => {
    document.getElementById("go")?.remove();
    const link = Object.assign(document.createElement("a"), { id: "go", href, textContent: "download" });
    link.style.cssText = "display:block;padding:1em;font-size:2em";
    document.body.prepend(link);
    return true;
  };
  // worker_posted: the page's side. Resolves once the worker holds the
  // port; then each "more" gets at least 1 MiB read from `href`, moved over.
  window.postedReady = null;
  window.preparePosted = (href, file) => {
    window.postedReady = false;
    const channel = new MessageChannel();
    let reader = null;
    channel.port1.onmessage = async (event) => {
      if (event.data.ready) {
        window.postedReady = true;
        return;
      }
      try {
        if (!reader) {
          const response = await fetch(href);
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          reader = response.body.getReader();
        }
        const chunks = [];
        let held = 0;
        let done = false;
        while (held < 1024 * 1024) {
          const step = await reader.read();
          if (step.done) {
            done = true;
            break;
          }
          // The whole buffer is the chunk's (a fetch's own): moved, not copied.
          const chunk = step.value.byteOffset === 0 && step.value.byteLength === step.value.buffer.byteLength
            ? step.value.buffer : step.value.slice().buffer;
          chunks.push(chunk);
          held += chunk.byteLength;
        }
        channel.port1.postMessage({ chunks, done }, chunks);
      } catch (error) {
        channel.port1.postMessage({ error: String(error) });
      }
    };
    navigator.serviceWorker.controller.postMessage({ file }, [channel.port2]);
    return true;
  };
  // Started; the download it ends with is what is timed (its failure, if
  // any, in window.blobFailed).
  window.blobDownload = (href, file) => {
    window.blobFailed = null;
    (async () => {
      const response = await fetch(href);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const reader = response.body.getReader();
      const pieces = [];
      let chunks = [];
      let held = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        held += value.byteLength;
        if (held >= 64 * 1024 * 1024) {
          pieces.push(new Blob(chunks));
          chunks = [];
          held = 0;
        }
      }
      pieces.push(new Blob(chunks));
      const url = URL.createObjectURL(new Blob(pieces, { type: "application/octet-stream" }));
      const link = Object.assign(document.createElement("a"), { href: url, download: file });
      document.body.append(link);
      link.click();
    })().catch((error) => {
      window.blobFailed = String(error);
    });
    return true;
  };
  // Started, then polled for window.readResult: a WebDriver script may run
  // only so long (30 s by default), and a slow browser's GiB takes longer.
  window.pageRead = (href) => {
    window.readResult = null;
    (async () => {
      const t0 = performance.now();
      const response = await fetch(href);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const reader = response.body.getReader();
      let read = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        read += value.byteLength;
      }
      window.readResult = { ms: performance.now() - t0, bytes: read };
    })().catch((error) => {
      window.readResult = { error: String(error) };
    });
    return true;
  };
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>download ceiling</title>
<body><script>(${pageScript})();</script></body>`;

// Random, not zeros: no file system or cache may make light of them.
const BLOCK = randomBytes(1024 * 1024);
function* blocks(size) {
  for (let left = size; left > 0; left -= BLOCK.length) yield left >= BLOCK.length ? BLOCK : BLOCK.subarray(0, left);
}
// A request under /sw/ is the worker's to answer: one that reaches the server says the worker did not.
let strayRequest = null;
const server = createServer((request, response) => {
  const url = new URL(request.url, "http://127.0.0.1");
  const send = (status, type, text) => response.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" }).end(text);
  if (url.pathname === "/") return send(200, "text/html; charset=utf-8", PAGE);
  if (url.pathname === "/sw.js") return send(200, "text/javascript", `(${serviceWorker})();`);
  const data = /^\/(plain|data)\/[\w.-]+$/.exec(url.pathname);
  if (!data) {
    if (url.pathname.startsWith("/sw/")) strayRequest = url.pathname;
    return send(404, "text/plain", "not here");
  }
  const size = Number(url.searchParams.get("bytes"));
  response.writeHead(200, {
    "Content-Type": "application/octet-stream",
    "Content-Length": String(size),
    "Cache-Control": "no-store",
    // Only the plain download is an attachment; the worker and page_read fetch /data/.
    ...(data[1] === "plain" && { "Content-Disposition": `attachment; filename="${url.pathname.split("/")[2]}"` }),
  });
  // pipeline: written as fast as the socket drains, and stopped if the browser goes away.
  pipeline(Readable.from(blocks(size)), response, () => {});
});

/** The browser's commands, each the same for this bench: `open()` loads the
 * page and resolves to whether the worker controls it (or why not),
 * `value(expression)`, `click()` on #go, `unfinished(name)` for a partial
 * file, `close()`. Each launched as the project's other benches launch it. */
async function launch(origin, dir) {
  const waitFor = async (value, expression, ms) => {
    const deadline = performance.now() + ms;
    for (;;) {
      const found = await value(expression);
      if (found) return found;
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
      await sleep(50);
    }
  };
  const controlled = (value) => waitFor(value, "window.controlled ? { controlled: true } : window.failed ? { failed: window.failed } : null", 30_000);
  if (name === "chromium") {
    // cdp-pipe.mjs imports handshake.mjs, which reads stdin: closed below, or node would wait on it.
    const { openPage } = await import("./cdp-pipe.mjs");
    const { input } = await import("./handshake.mjs");
    input.close();
    // As firefox.mjs and webkit.mjs do: every request but loopback's goes to a closed port.
    process.env.BENCH_CHROMIUM_FLAGS = `${process.env.BENCH_CHROMIUM_FLAGS ?? ""} --proxy-server=127.0.0.1:9 --proxy-bypass-list=127.0.0.1`;
    const browser = await openPage();
    try {
      await browser.browser("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: dir });
      await browser.page("Page.enable");
    } catch (error) {
      await browser.close();
      throw error;
    }
    const value = (expression) => browser.evaluate(`(${expression})`);
    return {
      open: async () => {
        await browser.page("Page.navigate", { url: `${origin}/` });
        return controlled(value);
      },
      value,
      click: () => browser.evaluate(`document.getElementById("go").click()`),
      unfinished: (file) => file.endsWith(".crdownload"),
      close: () => browser.close(),
    };
  }
  if (name === "firefox") {
    const { launchFirefox } = await import("../firefox.mjs");
    const browser = await launchFirefox(dir);
    let page = null;
    const value = (expression) => page.evaluate(`(${expression})`);
    return {
      // A new tab each time: a tab that has downloaded leaves its next
      // navigation unanswered (puppeteer's goto times out).
      open: async () => {
        await page?.close().catch(() => {});
        page = await browser.newPage();
        await page.goto(`${origin}/`);
        return controlled(value);
      },
      value,
      // Not waited on (share-download-firefox.mjs): WebDriver BiDi can hold a
      // click that navigates until the navigation ends, and a download never ends one.
      click: async () => {
        (await page.$("#go")).click().catch(() => {});
      },
      unfinished: (file) => file.endsWith(".part"),
      close: () => browser.close(),
    };
  }
  const { launchWebKit } = await import("../webkit.mjs");
  const browser = await launchWebKit(dir);
  // A function body to WebKit's driver.
  const value = (expression) => browser.evaluate(`return (${expression});`);
  return {
    open: async () => {
      await browser.goto(`${origin}/`);
      return controlled(value);
    },
    value,
    click: async () => browser.click(await browser.find("#go", 10_000)),
    // WebKit writes under the file's own name as it goes: whole is its size.
    unfinished: () => false,
    close: () => browser.close(),
  };
}

const emptied = (dir) => {
  for (const file of readdirSync(dir)) rmSync(`${dir}/${file}`, { recursive: true, force: true });
};

/** Seconds from the click on `href` until `file` is whole in `dir`
 * (timed-download.mjs's test: not a partial file's name, and the size expected). */
async function download(browser, dir, href, file, { blob = false } = {}) {
  emptied(dir);
  strayRequest = null;
  if (!blob) await browser.value(`window.prepare(${JSON.stringify(href)})`);
  const t0 = performance.now();
  if (blob) await browser.value(`window.blobDownload(${JSON.stringify(href)}, ${JSON.stringify(file)})`);
  else await browser.click();
  const stem = file.replace(/\.bin$/, "");
  const whole = (found) => found.startsWith(stem) && !browser.unfinished(found)
    && statSync(`${dir}/${found}`, { throwIfNoEntry: false })?.size === bytes;
  for (;;) {
    if (readdirSync(dir).some(whole)) break;
    if (strayRequest) throw new Error(`the service worker did not answer ${strayRequest}: it reached the server`);
    if (blob) {
      const failed = await browser.value("window.blobFailed");
      if (failed) throw new Error(`the page's Blob failed: ${failed}`);
    }
    if (performance.now() - t0 > TIMEOUT_MS) {
      const there = readdirSync(dir).map((found) => `${found}: ${statSync(`${dir}/${found}`, { throwIfNoEntry: false })?.size} bytes`);
      throw new Error(`the download did not finish in 5 minutes (the folder holds ${there.join(", ") || "nothing"})`);
    }
    // Often: at a few hundred MB/s, 100 ms (timed-download.mjs's) would be a few percent of a GiB.
    await sleep(20);
  }
  const seconds = (performance.now() - t0) / 1000;
  // A moment for the browser to be done with the file before it goes.
  await sleep(500);
  emptied(dir);
  return seconds;
}

/** worker_posted's download: the worker given the page's port first. */
async function posted(browser, dir, file) {
  await browser.value(`window.preparePosted(${JSON.stringify(`/data/${file}?bytes=${bytes}`)}, ${JSON.stringify(file)})`);
  const deadline = performance.now() + 10_000;
  while (!(await browser.value("window.postedReady"))) {
    if (performance.now() > deadline) throw new Error("the worker never took the page's port");
    await sleep(20);
  }
  return download(browser, dir, `/sw/posted/${file}?bytes=${bytes}`, file);
}

/** Seconds the page took to fetch and read `href` whole, by its own clock. */
async function pageRead(browser, href) {
  await browser.value(`window.pageRead(${JSON.stringify(href)})`);
  const deadline = performance.now() + TIMEOUT_MS;
  for (;;) {
    const result = await browser.value("window.readResult");
    if (result?.error) throw new Error(`the page's read failed: ${result.error}`);
    if (result) {
      if (result.bytes !== bytes) throw new Error(`the page read ${result.bytes} bytes, not ${bytes}`);
      return result.ms / 1000;
    }
    if (performance.now() > deadline) throw new Error("the page's read did not finish in 5 minutes");
    await sleep(50);
  }
}

const median = (values) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const dir = mkdtempSync(`${tmpdir()}/courier-download-ceiling-`);
let browser = null;
try {
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  browser = await launch(origin, dir);
  const results = Object.fromEntries(VARIANTS.map((variant) => [variant, { speeds: [], error: null }]));
  for (let round = 1; round <= rounds; round++) {
    for (const variant of VARIANTS) {
      const result = results[variant];
      if (result.error) continue;
      try {
        // A page of its own for each: nothing of the last one's left in it.
        const page = await browser.open();
        if (variant.startsWith("worker_") && !page.controlled) throw new Error(`no service worker controls the page: ${page.failed}`);
        const file = `ceiling-${variant}-${round}.bin`;
        const seconds = variant === "plain" ? await download(browser, dir, `/plain/${file}?bytes=${bytes}`, file)
          : variant === "page_read" ? await pageRead(browser, `/data/${file}?bytes=${bytes}`)
          : variant === "page_blob" ? await download(browser, dir, `/data/${file}?bytes=${bytes}`, file, { blob: true })
          : variant === "worker_posted" ? await posted(browser, dir, file)
          : await download(browser, dir, `/sw/${variant.slice("worker_".length)}/${file}?bytes=${bytes}`, file);
        result.speeds.push(bytes / seconds / 1e6);
        progress({ browser: name, variant, round, seconds: Math.round(seconds * 1000) / 1000, mb_per_s: mbPerS(seconds) });
      } catch (error) {
        result.error = `round ${round}: ${error.message}`;
        progress({ browser: name, variant, round, error: error.message });
      }
    }
  }
  const summary = { browser: name, bytes, rounds };
  for (const variant of VARIANTS) {
    const { speeds, error } = results[variant];
    const found = median(speeds);
    summary[variant] = {
      median_mb_per_s: found === null ? null : Math.round(found * 10) / 10,
      all: speeds.map((speed) => Math.round(speed * 10) / 10),
      ...(error && { error }),
    };
  }
  // From the medians unrounded.
  const plain = median(results.plain.speeds);
  summary.ratios = Object.fromEntries(VARIANTS.slice(1).map((variant) => {
    const found = median(results[variant].speeds);
    return [variant, found === null || !plain ? null : Math.round((found / plain) * 1000) / 1000];
  }));
  process.stdout.write(JSON.stringify(summary) + "\n");
} finally {
  await browser?.close().catch((error) => progress({ closing: error.message }));
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
}
