// The same large upload as big-upload.mjs, with the same handshake and
// output, but Chromium driven over a bare DevTools pipe with only what
// choosing a file needs (Target, Runtime, DOM): no Network domain. Playwright
// enables it on every page, and then Chromium reports each request to the
// driver, copying any request body held in memory. A person's browser has
// no DevTools attached; this is the closest measure of it. No per-part
// figures (they would need the Network domain).
//   node bench/big-upload-plain.mjs http://127.0.0.1:3000/ /path/to/file.bin
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename } from "node:path";
import { HYDRATED, file, input, nextLine, say, timeoutMs, url } from "./handshake.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --remote-debugging-pipe: Chromium reads commands on fd 3 and writes
// answers and events on fd 4, each message JSON ended by a NUL byte. The
// other switches are big-upload.mjs's, and those Playwright adds that bear
// on a page's speed.
const profile = mkdtempSync(`${tmpdir()}/courier-bench-chromium-`);
const chromium = spawn(process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", [
  "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--disable-quic",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
  "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows",
  "--disable-renderer-backgrounding", `--user-data-dir=${profile}`, "about:blank",
], { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] });
const [, , , toChromium, fromChromium] = chromium.stdio;

let nextId = 1;
const pending = new Map();
let buffered = Buffer.alloc(0);
fromChromium.on("data", (chunk) => {
  buffered = Buffer.concat([buffered, chunk]);
  let end;
  while ((end = buffered.indexOf(0)) >= 0) {
    const message = JSON.parse(buffered.subarray(0, end).toString("utf8"));
    buffered = buffered.subarray(end + 1);
    const waiting = message.id && pending.get(message.id);
    if (!waiting) continue;
    pending.delete(message.id);
    if (message.error) waiting.reject(new Error(`${waiting.method}: ${message.error.message}`));
    else waiting.resolve(message.result);
  }
});

function send(method, params = {}, sessionId) {
  const id = nextId++;
  toChromium.write(JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) }) + "\0");
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
}

try {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const page = (method, params) => send(method, params, sessionId);
  const evaluate = async (expression) =>
    (await page("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true })).result.value;
  const waitFor = async (expression, ms) => {
    const deadline = performance.now() + ms;
    for (;;) {
      const value = await evaluate(expression);
      if (value) return value;
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
      await sleep(50);
    }
  };

  await page("Page.navigate", { url });
  await waitFor(`!!document.querySelector(${JSON.stringify(HYDRATED)})`, 30_000);
  say({ event: "ready" });
  await nextLine();

  const { result } = await page("Runtime.evaluate", { expression: "document.querySelector('input[type=file]')" });
  const t0 = performance.now();
  await page("DOM.setFileInputFiles", { files: [file], objectId: result.objectId });
  // "done" with its link (the card named after the file), or failed.
  const outcome = await waitFor(`(() => {
    const card = [...document.querySelectorAll(".card")].find((c) => c.textContent.includes(${JSON.stringify(basename(file))}));
    const link = card?.querySelector("a.download-link");
    if (link) return { state: card.dataset.state, link: link.href };
    const failed = document.querySelector(".card[data-state='failed']");
    if (failed) return { failed: failed.innerText };
  })()`, timeoutMs);
  const seconds = (performance.now() - t0) / 1000;
  if (outcome.failed) {
    say({ event: "failed", seconds, card: outcome.failed });
  } else {
    const recent = await evaluate(`JSON.parse(localStorage.getItem("courier.recent-uploads") ?? "[]")[0]`);
    say({ event: "done", seconds, state: outcome.state, link: outcome.link, key: recent?.key, token: recent?.token });
  }
  await nextLine();
} finally {
  // Closed as Playwright closes it, so no process is left writing the profile.
  const exited = new Promise((resolve) => (chromium.exitCode === null ? chromium.once("exit", resolve) : resolve()));
  send("Browser.close").catch(() => {});
  const killer = setTimeout(() => chromium.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(killer);
  rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  input.close();
}
