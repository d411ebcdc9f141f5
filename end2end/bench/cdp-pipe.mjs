// Headless Chromium driven over a bare DevTools pipe, with only the domains a
// caller enables: no Network domain, which Playwright enables on every page
// and which then makes Chromium report each request to the driver, copying
// any request body held in memory. A person's browser has no DevTools
// attached; this is the closest measure of it.
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { HYDRATED, input, nextLine, say, url } from "./handshake.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts Chromium on about:blank; returns one page's commands, and `close`. */
export async function openPage() {
  // --remote-debugging-pipe: Chromium reads commands on fd 3 and writes
  // answers and events on fd 4, each message JSON ended by a NUL byte. The
  // other switches are big-upload.mjs's, and those Playwright adds that bear
  // on a page's speed.
  const profile = mkdtempSync(`${tmpdir()}/courier-bench-chromium-`);
  const log = process.env.BENCH_CHROMIUM_LOG ? openSync(process.env.BENCH_CHROMIUM_LOG, "w") : "ignore";
  const chromium = spawn(process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", [
    "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding", `--user-data-dir=${profile}`,
    // BENCH_CHROMIUM_FLAGS: more switches, for a look inside (--js-flags=--trace-gc);
    // BENCH_CHROMIUM_LOG: a file for what Chromium prints.
    ...(process.env.BENCH_CHROMIUM_FLAGS ?? "").split(" ").filter(Boolean), "about:blank",
  ], { stdio: ["ignore", log, log, "pipe", "pipe"] });
  const [, , , toChromium, fromChromium] = chromium.stdio;

  let nextId = 1;
  const pending = new Map();
  // Events (messages without an id), to whoever listens: `on(listener)`.
  const listeners = new Set();
  let buffered = Buffer.alloc(0);
  fromChromium.on("data", (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    let end;
    while ((end = buffered.indexOf(0)) >= 0) {
      const message = JSON.parse(buffered.subarray(0, end).toString("utf8"));
      buffered = buffered.subarray(end + 1);
      if (!message.id) {
        for (const listener of listeners) listener(message);
        continue;
      }
      const waiting = pending.get(message.id);
      if (!waiting) continue;
      pending.delete(message.id);
      if (message.error) waiting.reject(new Error(`${waiting.method}: ${message.error.message}`));
      else waiting.resolve(message.result);
    }
  });
  const send = (method, params = {}, sessionId) => {
    const id = nextId++;
    toChromium.write(JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) }) + "\0");
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
  };

  // Closed as Playwright closes it, so no process is left writing the profile.
  const close = async () => {
    const exited = new Promise((resolve) => (chromium.exitCode === null ? chromium.once("exit", resolve) : resolve()));
    send("Browser.close").catch(() => {});
    const killer = setTimeout(() => chromium.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(killer);
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  };

  try {
    const { targetId } = await send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
    const page = (method, params) => send(method, params, sessionId);
    /** The value of `expression` (awaited if a promise); throws what it throws. */
    const evaluate = async (expression) => {
      const answer = await page("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
      if (answer.exceptionDetails) {
        throw new Error(answer.exceptionDetails.exception?.description ?? answer.exceptionDetails.text);
      }
      return answer.result.value;
    };
    const waitFor = async (expression, ms) => {
      const deadline = performance.now() + ms;
      for (;;) {
        const value = await evaluate(expression);
        if (value) return value;
        if (performance.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
        await sleep(50);
      }
    };
    /** Chooses `path` on the file input `expression` evaluates to. */
    const chooseFile = async (expression, path) => {
      const { result } = await page("Runtime.evaluate", { expression });
      await page("DOM.setFileInputFiles", { files: [path], objectId: result.objectId });
    };
    // `browser`: commands to the browser itself (downloads); `pid`: Chromium's.
    // `on(listener)`: every event (method, params, sessionId); returns its removal.
    const on = (listener) => (listeners.add(listener), () => listeners.delete(listener));
    return { page, browser: (method, params) => send(method, params), send, on, pid: chromium.pid, evaluate, waitFor, chooseFile, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A large-upload driver's run (see big-upload.mjs for the handshake): opens
 * Courier's page and says "ready" once it is hydrated; on the caller's line,
 * `upload(browser, elapsed)` chooses the file and resolves to the outcome to
 * say (`elapsed()`: seconds since the line came); closes on the next line.
 * BENCH_LINK_MBIT: the page's uploads are held to that rate by Chromium's
 * own throttle, as behind a real link (which needs the Network domain, told
 * to copy no request body). */
export async function timeUpload(upload) {
  const browser = await openPage();
  try {
    const linkMbit = Number(process.env.BENCH_LINK_MBIT ?? 0);
    if (linkMbit > 0) {
      await browser.page("Network.enable", { maxPostDataSize: 0 });
      await browser.page("Network.emulateNetworkConditions", {
        offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: (linkMbit * 1e6) / 8,
      });
    }
    await browser.page("Page.navigate", { url });
    await browser.waitFor(`!!document.querySelector(${JSON.stringify(HYDRATED)})`, 30_000);
    say({ event: "ready" });
    await nextLine();
    const t0 = performance.now();
    say(await upload(browser, () => (performance.now() - t0) / 1000));
    await nextLine();
  } finally {
    await browser.close();
    input.close();
  }
}
