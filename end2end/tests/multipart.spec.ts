import { expect, type Page, test } from "@playwright/test";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { downloadedMd5, expectOnlyMissingSent, partsCourier, reloadMidUpload, throttleUploads, watchParts, writeBigFile } from "./helpers";

const MIB = 1024 * 1024;

// Large files go up in parts (S3 multipart) against a Courier of their own:
// files from 8 MiB on, up to 400 MiB, any type.
const own = partsCourier("courier-parts");

const bigFile = (name: string, size: number) => writeBigFile(own.files, name, size);

async function open(page: Page) {
  await page.goto(own.courier.baseURL);
  await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();
}

async function choose(page: Page, file: string) {
  await page.locator("input[type=file]").setInputFiles(file);
}


/** A new file of `size` bytes chosen with uploads slowed to 8 MiB/s; returns
 * once the store holds one of its parts. */
async function uploadSlowly(page: Page, name: string, size: number) {
  const { file, md5 } = bigFile(name, size);
  await open(page);
  await throttleUploads(page, 8 * MIB);
  const parts = watchParts(page);
  await choose(page, file);
  const card = page.locator(".card").filter({ hasText: name });
  await expect.poll(() => parts.filter((p) => p.status === 200).length, { timeout: 30_000 }).toBeGreaterThan(0);
  return { md5, parts, card };
}

/** Stands in for Chromium's own picker (showOpenFilePicker), which Playwright
 * cannot drive: it hands out a real handle to `name` in the origin's private
 * file system, and counts how often it is opened (`window.picks`). */
async function standInForThePicker(page: Page, name: string) {
  await page.addInitScript((name) => {
    const picker = window as unknown as { picks: number; showOpenFilePicker: () => Promise<unknown[]> };
    picker.picks = 0;
    picker.showOpenFilePicker = async () => {
      picker.picks++;
      const root = await navigator.storage.getDirectory();
      return [await root.getFileHandle(name)];
    };
  }, name);
}

const picks = (page: Page) => page.evaluate(() => (window as unknown as { picks: number }).picks);

/** Writes `size` bytes (a different value in every MiB) to `name` in the
 * origin's private file system; their MD5. */
async function writeKeptFile(page: Page, name: string, size: number) {
  const byte = (i: number) => (i * 31 + (i >> 20)) % 251;
  const expected = Buffer.alloc(size);
  for (let i = 0; i < size; i++) expected[i] = byte(i);
  await page.evaluate(
    async ([name, size]) => {
      const root = await navigator.storage.getDirectory();
      const writable = await (await root.getFileHandle(name, { create: true })).createWritable();
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 20)) % 251;
      await writable.write(bytes);
      await writable.close();
    },
    [name, size] as const,
  );
  return createHash("md5").update(expected).digest("hex");
}

/** Each part went with the SHA-256 of its 8 MiB of `file`, as the browser computed it. */
function expectEachPartsSha256(parts: { number: number; checksum?: string }[], file: string) {
  const original = readFileSync(file);
  for (const part of parts) {
    const bytes = original.subarray((part.number - 1) * 8 * MIB, part.number * 8 * MIB);
    expect(part.checksum, `part ${part.number}`).toBe(createHash("sha256").update(bytes).digest("base64"));
  }
}

/** The multipart uploads the embedded store still holds (its `.upload-<id>.json`). */
function uploadsInStore(): string[] {
  return readdirSync(path.join(own.dataDir, "objects")).filter((name) => name.startsWith(".upload"));
}

test("a 300 MiB file goes up in parts, with one progress bar, and comes back whole", async ({ page }) => {
  test.setTimeout(180_000);
  const { file, md5 } = bigFile("disk image.iso", 300 * MIB);
  await open(page);
  const parts = watchParts(page);
  await choose(page, file);
  const card = page.locator(".card").filter({ hasText: "disk image.iso" });
  await expect(card.getByRole("progressbar")).toHaveCount(1);
  await expect(card).toHaveAttribute("data-state", "done", { timeout: 150_000 });
  await expect(card.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100");
  // 38 parts of 8 MiB (the last 4 MiB), each sent once.
  expect(parts.map((p) => p.number).sort((a, b) => a - b)).toEqual(Array.from({ length: 38 }, (_, i) => i + 1));
  expect(parts.every((p) => p.status === 200)).toBe(true);
  expectEachPartsSha256(parts, file);
  expect(await downloadedMd5(page, card)).toBe(md5);
  expect(uploadsInStore()).toEqual([]);
});

test("a part damaged on the way is refused by the store and sent again", async ({ page }) => {
  const { file, md5 } = bigFile("damaged.bin", 20 * MIB);
  await open(page);
  let damaged = 0;
  await page.route(/partNumber=2&/, async (route) => {
    const body = route.request().postDataBuffer();
    if (route.request().method() === "PUT" && damaged === 0 && body) {
      damaged++;
      // One bit flipped: the length still matches what the URL signs, the checksum no longer does.
      const bytes = Buffer.from(body);
      bytes[12345] ^= 1;
      await route.continue({ postData: bytes });
    } else {
      await route.continue();
    }
  });
  const parts = watchParts(page);
  await choose(page, file);
  const card = page.locator(".card").filter({ hasText: "damaged.bin" });
  await expect(card).toHaveAttribute("data-state", "done", { timeout: 30_000 });
  expect(damaged).toBe(1);
  // The store refused the damaged bytes (BadDigest) and kept the second try.
  expect(parts.filter((p) => p.number === 2).map((p) => p.status)).toEqual([400, 200]);
  expect(await downloadedMd5(page, card)).toBe(md5);
});

test("where the browser offers no crypto.subtle (plain HTTP to another host), the page hashes each part itself", async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(Crypto.prototype, "subtle", { get: () => undefined });
  });
  const { file, md5 } = bigFile("insecure.bin", 20 * MIB);
  await open(page);
  expect(await page.evaluate(() => window.crypto.subtle)).toBeUndefined();
  const parts = watchParts(page);
  await choose(page, file);
  const card = page.locator(".card").filter({ hasText: "insecure.bin" });
  await expect(card).toHaveAttribute("data-state", "done", { timeout: 30_000 });
  expect(parts.map((p) => p.number).sort()).toEqual([1, 2, 3]);
  expectEachPartsSha256(parts, file);
  expect(await downloadedMd5(page, card)).toBe(md5);
});

test("a part answered 503 twice is sent again, and the file is whole", async ({ page }) => {
  const { file, md5 } = bigFile("flaky.bin", 20 * MIB);
  await open(page);
  let refused = 0;
  await page.route(/partNumber=2&/, async (route) => {
    if (route.request().method() === "PUT" && refused < 2) {
      refused++;
      await route.fulfill({
        status: 503,
        headers: { "Access-Control-Allow-Origin": own.courier.baseURL, "Content-Type": "application/xml" },
        body: "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
      });
    } else {
      await route.continue();
    }
  });
  const parts = watchParts(page);
  await choose(page, file);
  const card = page.locator(".card").filter({ hasText: "flaky.bin" });
  await expect(card).toHaveAttribute("data-state", "done", { timeout: 30_000 });
  expect(refused).toBe(2);
  expect(parts.filter((p) => p.number === 2 && p.status === 200)).toHaveLength(1);
  expect(await downloadedMd5(page, card)).toBe(md5);
});

test("Retry after a failed part sends only the parts the store does not hold", async ({ page }) => {
  const { file, md5 } = bigFile("resumed.bin", 40 * MIB);
  await open(page);
  const refuse = async (route: import("@playwright/test").Route) => {
    if (route.request().method() !== "PUT") return route.continue();
    await route.fulfill({
      status: 400,
      headers: { "Access-Control-Allow-Origin": own.courier.baseURL, "Content-Type": "application/xml" },
      body: "<Error><Code>InvalidArgument</Code><Message>Refused by the test.</Message></Error>",
    });
  };
  await page.route(/partNumber=3&/, refuse);
  const parts = watchParts(page);
  await choose(page, file);
  const card = page.locator(".card").filter({ hasText: "resumed.bin" });
  await expect(card).toHaveAttribute("data-state", "failed", { timeout: 30_000 });
  await page.unroute(/partNumber=3&/, refuse);
  const storedBefore = new Set(parts.filter((p) => p.status === 200).map((p) => p.number));
  await card.getByRole("button", { name: "Retry" }).click();
  await expect(card).toHaveAttribute("data-state", "done", { timeout: 30_000 });
  const stored = parts.filter((p) => p.status === 200).map((p) => p.number);
  // Every part stored exactly once: none of those stored before went again.
  expect(stored.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
  expect(storedBefore.size).toBeGreaterThan(0);
  expect(await downloadedMd5(page, card)).toBe(md5);
});

test("Cancel stops the parts and leaves no incomplete upload in the store", async ({ page }) => {
  // Slow enough to cancel mid-way.
  const { card } = await uploadSlowly(page, "cancelled.bin", 80 * MIB);
  expect(uploadsInStore().length).toBeGreaterThan(0);
  await card.getByRole("button", { name: "Cancel" }).click();
  await expect(card).toHaveAttribute("data-state", "cancelled");
  await expect.poll(uploadsInStore, { timeout: 10_000 }).toEqual([]);
});

test("after a reload, choosing the same file again sends only the parts still missing", async ({ page }) => {
  test.setTimeout(90_000);
  const { file, md5 } = bigFile("reloaded.bin", 40 * MIB);
  await open(page);
  const { parts, storedBefore } = await reloadMidUpload(page, () => choose(page, file));

  // The paused card comes back first; an impostor's card would follow it.
  const card = page.locator(".card").filter({ hasText: "reloaded.bin" }).first();
  await expect(card).toHaveAttribute("data-state", "paused");
  await expect(card).toContainText("choose or drop this file again");
  await expect(card.getByRole("progressbar")).not.toHaveAttribute("aria-valuenow", "0");

  // Another file of the same name is never mixed in: it goes up on its own card.
  const impostor = path.join(mkdtempSync(path.join(own.files, "impostor-")), "reloaded.bin");
  writeFileSync(impostor, "not the same bytes");
  await page.locator("input[type=file]").setInputFiles(impostor);
  await expect(card).toContainText("is not the file this upload was for");
  await expect(page.locator(".card[data-state='done']").filter({ hasText: "reloaded.bin" })).toHaveCount(1);
  await expect(card).toHaveAttribute("data-state", "paused");

  await choose(page, file);
  await expect(card).toHaveAttribute("data-state", "done", { timeout: 30_000 });
  expectOnlyMissingSent(parts, storedBefore);
  expect(await downloadedMd5(page, card)).toBe(md5);
  expect(uploadsInStore()).toEqual([]);
});

test("where the browser keeps a handle to the file, Resume after a reload takes one click", async ({ page }) => {
  test.setTimeout(90_000);
  const size = 40 * MIB;
  // Playwright cannot drive Chromium's own picker (showOpenFilePicker), so
  // this stands in for it, handing out a real handle to a file in the
  // origin's private file system. The rest is the browser's: the handle
  // kept in IndexedDB across the reload, its permission, reading the file.
  await standInForThePicker(page, "kept.bin");
  await open(page);
  const md5 = await writeKeptFile(page, "kept.bin", size);

  const { parts, storedBefore } = await reloadMidUpload(page, async () => {
    // The drop zone opens the browser's own picker.
    await page.locator(".dropzone").click();
    expect(await picks(page)).toBe(1);
  });

  const card = page.locator(".card").filter({ hasText: "kept.bin" });
  await expect(card).toHaveAttribute("data-state", "paused");
  await expect(card).toContainText("Resume reads the file again from this computer");
  await card.getByRole("button", { name: "Resume" }).click();
  await expect(card).toHaveAttribute("data-state", "done", { timeout: 30_000 });
  // Nothing was chosen again, and only what the store did not hold went.
  expect(await picks(page)).toBe(0);
  expectOnlyMissingSent(parts, storedBefore);
  expect(await downloadedMd5(page, card)).toBe(md5);
  expect(uploadsInStore()).toEqual([]);
  // The handle goes once the upload is complete.
  await expect
    .poll(() =>
      page.evaluate(
        () =>
          new Promise<number>((resolve, reject) => {
            const open = indexedDB.open("courier");
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
              const count = open.result.transaction("file-handles").objectStore("file-handles").count();
              count.onsuccess = () => resolve(count.result);
            };
          }),
      ),
    )
    .toBe(0);
});

test("a kept file that changed since is not mixed in: Resume says so", async ({ page }) => {
  await standInForThePicker(page, "changed.bin");
  await open(page);
  // Five parts, four at a time: the fifth is still to go when the first are stored.
  await writeKeptFile(page, "changed.bin", 40 * MIB);
  await throttleUploads(page, 8 * MIB);
  const parts = watchParts(page);
  await page.locator(".dropzone").click();
  await expect.poll(() => parts.filter((p) => p.status === 200).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
  await page.reload();
  await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();
  const card = page.locator(".card").filter({ hasText: "changed.bin" });
  await expect(card).toContainText("Resume reads the file again");
  // Edited on disk meanwhile: same name, another size.
  await writeKeptFile(page, "changed.bin", 40 * MIB + 1);
  parts.length = 0;
  await card.getByRole("button", { name: "Resume" }).click();
  await expect(card).toContainText("The file changed since its upload started");
  await expect(card).toHaveAttribute("data-state", "paused");
  expect(parts).toEqual([]);
  await card.getByRole("button", { name: "Remove" }).click();
  await expect.poll(uploadsInStore, { timeout: 10_000 }).toEqual([]);
});

test("Pause stops the parts, Resume sends only the rest", async ({ page }) => {
  const { md5, parts, card } = await uploadSlowly(page, "paused.bin", 40 * MIB);
  await card.getByRole("button", { name: "Pause" }).click();
  await expect(card).toHaveAttribute("data-state", "paused");
  await expect(card).toContainText("Paused.");
  const storedWhilePaused = parts.filter((p) => p.status === 200).length;
  await page.waitForTimeout(1_500);
  expect(parts.filter((p) => p.status === 200)).toHaveLength(storedWhilePaused);
  await card.getByRole("button", { name: "Resume" }).click();
  await expect(card).toHaveAttribute("data-state", "done", { timeout: 30_000 });
  const stored = parts.filter((p) => p.status === 200).map((p) => p.number);
  expect(new Set(stored).size).toBe(stored.length);
  expect(await downloadedMd5(page, card)).toBe(md5);
});

test("a Pause while the parts wait for their URLs sends none of them, and completes nothing", async ({ page }) => {
  const { file, md5 } = bigFile("held.bin", 40 * MIB);
  await open(page);
  // Courier's answers to sign_parts are held back until the file is paused.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let signing = 0;
  await page.route("**/api/sign_parts", async (route) => {
    signing++;
    await released;
    await route.continue();
  });
  const putsAndCompletions: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if ((request.method() === "PUT" && url.searchParams.has("partNumber")) || url.pathname.endsWith("/complete_multipart")) {
      putsAndCompletions.push(`${request.method()} ${url.pathname}`);
    }
  });
  await choose(page, file);
  const card = page.locator(".card").filter({ hasText: "held.bin" });
  // Each of the 4 parts at once waits for its URL: none is on its way.
  await expect.poll(() => signing, { timeout: 30_000 }).toBe(4);
  await card.getByRole("button", { name: "Pause" }).click();
  await expect(card).toHaveAttribute("data-state", "paused");
  release();
  await page.waitForTimeout(1_500);
  expect(putsAndCompletions).toEqual([]);
  await expect(card).toHaveAttribute("data-state", "paused");

  await page.unroute("**/api/sign_parts");
  await card.getByRole("button", { name: "Resume" }).click();
  await expect(card).toHaveAttribute("data-state", "done", { timeout: 30_000 });
  expect(await downloadedMd5(page, card)).toBe(md5);
});

test("going offline pauses the parts, and they go on by themselves once back online", async ({ page, context }) => {
  const { md5, parts, card } = await uploadSlowly(page, "offline.bin", 40 * MIB);
  await context.setOffline(true);
  await expect(card).toHaveAttribute("data-state", "paused");
  await expect(card).toContainText("Offline: the upload goes on by itself when the connection is back.");
  await page.waitForTimeout(1_000);
  await context.setOffline(false);
  await expect(card).toHaveAttribute("data-state", "done", { timeout: 30_000 });
  const stored = parts.filter((p) => p.status === 200).map((p) => p.number);
  expect(new Set(stored).size).toBe(stored.length);
  expect(await downloadedMd5(page, card)).toBe(md5);
});
