import { type Browser, expect, type Locator, type Page, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { type RunningCourier, startCourier, testEnv } from "../courier-process";

const MIB = 1024 * 1024;

export const baseURL = () => {
  const url = process.env.COURIER_BASE_URL;
  if (!url) throw new Error("COURIER_BASE_URL is not set: global-setup did not start courier");
  return url;
};

export const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("hex");

export function sampleFile(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31) % 251;
  return bytes;
}

/** Opens the page and waits until the WASM client has taken the form over. */
export async function openHydrated(page: Page) {
  await page.goto(baseURL());
  await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();
}

/** Slows uploads down (Chrome DevTools Protocol), so progress can be watched. */
export async function throttleUploads(page: Page, bytesPerSecond: number) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  // Returned to change the rate later (-1: no limit); it lasts across reloads.
  const throttle = (rate: number) =>
    cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 20,
      downloadThroughput: -1,
      uploadThroughput: rate,
    });
  await throttle(bytesPerSecond);
  return throttle;
}

/** A file of `size` bytes on disk (large files are chosen by path), and its MD5. */
export function writeBigFile(dir: string, name: string, size: number): { file: string; md5: string } {
  const bytes = Buffer.alloc(size);
  const period = Buffer.from(Array.from({ length: 251 }, (_, i) => (i * 31) % 251));
  for (let at = 0; at < size; at += period.length) period.copy(bytes, at);
  // Different bytes in every part, so a part sent in the wrong place shows.
  for (let at = 0; at < size; at += MIB) bytes.writeUInt32BE(at, at);
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return { file, md5: createHash("md5").update(bytes).digest("hex") };
}

/** Each part request the page makes: its part number and how it ended. */
export function watchParts(page: Page) {
  const parts: { number: number; status: number; checksum?: string }[] = [];
  page.on("requestfinished", async (request) => {
    const url = new URL(request.url());
    if (request.method() !== "PUT" || !url.searchParams.has("partNumber")) return;
    const response = await request.response();
    parts.push({
      number: Number(url.searchParams.get("partNumber")),
      status: response?.status() ?? 0,
      checksum: request.headers()["x-amz-checksum-sha256"],
    });
  });
  return parts;
}

export async function downloadedMd5(page: Page, card: Locator) {
  const href = await card.locator("a.download-link").getAttribute("href");
  const download = await page.request.get(href!);
  expect(download.status()).toBe(200);
  return createHash("md5").update(await download.body()).digest("hex");
}

/**
 * Starts a large file's upload with `start`, slowed down, and reloads the
 * page once at least two parts are stored. Returns the parts the store held
 * then, and the list of part requests, emptied, that the page makes after.
 */
export async function reloadMidUpload(page: Page, start: () => Promise<void>, timeout = 30_000) {
  const throttle = await throttleUploads(page, 8 * MIB);
  const parts = watchParts(page);
  await start();
  await expect.poll(() => parts.filter((p) => p.status === 200).length, { timeout }).toBeGreaterThanOrEqual(2);
  await page.reload();
  await throttle(-1);
  const storedBefore = new Set(parts.filter((p) => p.status === 200).map((p) => p.number));
  parts.length = 0;
  await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();
  return { parts, storedBefore };
}

/** Only parts the store did not hold before the reload went after it. */
export function expectOnlyMissingSent(parts: { number: number; status: number }[], storedBefore: Set<number>) {
  const sentAfter = parts.filter((p) => p.status === 200).map((p) => p.number);
  expect(sentAfter.filter((n) => storedBefore.has(n))).toEqual([]);
  expect(sentAfter.length).toBeLessThan(5);
}

/**
 * A Courier of the test file's own, for large files: parts from 8 MiB on, up
 * to 400 MiB, any type; with its data directory (its store and share
 * database) and a scratch folder for the files, all gone after the file's
 * tests. Its fields are set once the file's first test starts.
 */
export function partsCourier(prefix: string) {
  const own = {} as { courier: RunningCourier; dataDir: string; files: string };
  test.beforeAll(async () => {
    own.dataDir = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
    own.files = mkdtempSync(path.join(tmpdir(), `${prefix}-files-`));
    own.courier = await startCourier({
      ...testEnv(process.env.COURIER_SITE_ROOT!),
      COURIER_EMBEDDED_S3_ADDR: "127.0.0.1:0",
      COURIER_DATA_DIR: own.dataDir,
      COURIER_MAX_UPLOAD_BYTES: String(400 * MIB),
      COURIER_ALLOWED_TYPES: "",
      COURIER_MULTIPART_THRESHOLD: String(8 * MIB),
    });
  });
  test.afterAll(async () => {
    await own.courier?.stop();
    rmSync(own.dataDir, { recursive: true, force: true });
    rmSync(own.files, { recursive: true, force: true });
  });
  return own;
}

/** Every file under `dir`, recursively. */
export function everyFile(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? everyFile(full) : [full];
  });
}

const RECORD = 65536;

/** `courier send`s `bytes` as `name` to `own`'s Courier, encrypted (with
 * `more` arguments: `--password P`): the share's link, its key after #. */
export function sendEncrypted(own: ReturnType<typeof partsCourier>, name: string, bytes: Buffer, ...more: string[]): string {
  const file = path.join(mkdtempSync(path.join(own.files, "sent-")), name);
  writeFileSync(file, bytes);
  return execFileSync(process.env.COURIER_BIN!, ["send", file, "--url", own.courier.baseURL, ...more]).toString().trim();
}

/**
 * `sendEncrypted`, then
 * changes one byte of the store's object in its record `record` (FORMAT.md:
 * each record is followed by its 16-byte tag): the share's link, its key
 * after #.
 */
export function sendDamaged(own: ReturnType<typeof partsCourier>, name: string, bytes: Buffer, record: number): string {
  const before = new Set(everyFile(own.dataDir));
  const link = sendEncrypted(own, name, bytes);
  const objectSize = bytes.length + 16 * (Math.floor(bytes.length / RECORD) + 1);
  const [object] = everyFile(own.dataDir).filter((kept) => !before.has(kept) && statSync(kept).size === objectSize);
  expect(object, "the new object in the store").toBeTruthy();
  const sealed = readFileSync(object);
  sealed[record * (RECORD + 16) + 100] ^= 0x01;
  writeFileSync(object, sealed);
  return link;
}

/** Someone given a link, in a browser of their own; without a file picker
 * (a headless browser cannot answer one), so downloads stream through the
 * share page's service worker. */
export async function recipient(browser: Browser) {
  const context = await browser.newContext({ acceptDownloads: true });
  const visitor = await context.newPage();
  await visitor.addInitScript(() => {
    delete (window as unknown as { showSaveFilePicker?: unknown }).showSaveFilePicker;
  });
  return { context, visitor };
}

/** Someone in a browser context of their own whose save-file picker is
 * answered with the file "picked" of the origin's private file system (the
 * same writable stream a picked file gets): the share page's picker path. */
export async function pickingVisitor(browser: Browser) {
  const context = await browser.newContext();
  const visitor = await context.newPage();
  await visitor.addInitScript(() => {
    (window as unknown as { showSaveFilePicker: () => Promise<FileSystemFileHandle> }).showSaveFilePicker = () =>
      navigator.storage.getDirectory().then((root) => root.getFileHandle("picked", { create: true }));
  });
  return { context, visitor };
}

/** The SHA-256 (hex) of what `pickingVisitor`'s picked file holds. */
export function pickedSha256(visitor: Page): Promise<string> {
  return visitor.evaluate(async () => {
    const saved = await (await (await navigator.storage.getDirectory()).getFileHandle("picked")).getFile();
    const digest = await crypto.subtle.digest("SHA-256", await saved.arrayBuffer());
    return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
  });
}
