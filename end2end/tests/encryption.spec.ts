import { type Browser, type BrowserContext, expect, type Locator, type Page, test } from "@playwright/test";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import path from "node:path";

import {
  everyFile,
  expectOnlyMissingSent,
  partsCourier,
  pickedSha256,
  pickingVisitor,
  recipient,
  reloadMidUpload,
  sendDamaged,
  sendEncrypted,
  writeBigFile,
} from "./helpers";

const MIB = 1024 * 1024;

// Files encrypted in the browser (FORMAT.md), against a Courier of their own
// whose store and share database are looked into afterwards.
const own = partsCourier("courier-e2e");

async function open(page: Page) {
  await page.goto(own.courier.baseURL);
  await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();
}

/** Clicks `item`'s Download; the bytes saved, once saved under `name`. */
async function downloaded(visitor: Page, item: Locator, name: string): Promise<Buffer> {
  const [download] = await Promise.all([visitor.waitForEvent("download"), item.getByRole("button").click()]);
  expect(download.suggestedFilename()).toBe(name);
  return readFileSync((await download.path())!);
}

/** Someone given `href`, in a browser of their own, clicks `name`'s Download
 * on the share page; its save-file picker answered with the file "picked" of
 * the origin's private file system (the same writable stream a picked file
 * gets). */
async function downloadThroughPicker(browser: Browser, href: string, name: string) {
  const { context, visitor } = await pickingVisitor(browser);
  await visitor.goto(href);
  await visitor.locator("li.share-file").filter({ hasText: name }).getByRole("button").click();
  return { context, visitor };
}

/** Someone given `href` downloads `name` through the share page's other
 * path, its save-file picker: the SHA-256 (hex) of what was saved. */
async function savedThroughPicker(browser: Browser, href: string, name: string): Promise<string> {
  const { context, visitor } = await downloadThroughPicker(browser, href, name);
  await expect(visitor.locator(".e2e-status")).toHaveText(`${name} is saved.`, { timeout: 60_000 });
  const sha256 = await pickedSha256(visitor);
  await context.close();
  return sha256;
}

test("a file encrypted in parts, reloaded mid-way and resumed, opens in a fresh browser from its link alone; Courier keeps neither its bytes, nor its name, nor its key", async ({
  page,
  browser,
}) => {
  test.setTimeout(150_000);
  const name = "plans for the garden.bin";
  const { file, md5 } = writeBigFile(own.files, name, 40 * MIB);
  // The parts are sealed in the page's sealing worker, off its thread.
  const workers: string[] = [];
  page.on("worker", (worker) => workers.push(new URL(worker.url()).pathname));
  await open(page);
  await page.getByTestId("encrypt").check();

  const { parts, storedBefore } = await reloadMidUpload(page, () =>
    page.locator("input[type=file]").setInputFiles(file),
  );
  // Each part went sealed: whole records, the last one short.
  const card = page.locator(".card").filter({ hasText: name }).first();
  await expect(card).toHaveAttribute("data-state", "paused");
  await page.locator("input[type=file]").setInputFiles(file);
  await expect(card).toHaveAttribute("data-state", "done", { timeout: 60_000 });
  expectOnlyMissingSent(parts, storedBefore);
  expect(workers).toContain("/seal-worker.js");

  const href = (await card.getByTestId("share-link").getAttribute("href"))!;
  const [link, key] = href.split("#");
  expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/);

  // Someone else, given the link: the name comes from the key, the bytes
  // through the streaming fallback (no file picker), decrypted whole.
  const { context, visitor } = await recipient(browser);
  const requests: string[] = [];
  visitor.on("request", (request) => requests.push(request.url()));
  await visitor.goto(href);
  const item = visitor.locator("li.share-file").filter({ hasText: name });
  await expect(item).toBeVisible();
  expect(createHash("md5").update(await downloaded(visitor, item, name)).digest("hex")).toBe(md5);
  // The key never left the browser.
  expect(requests.filter((url) => url.includes(key))).toEqual([]);
  await context.close();
  // And through the save-file picker, the same bytes.
  expect(await savedThroughPicker(browser, href, name)).toBe(createHash("sha256").update(readFileSync(file)).digest("hex"));

  // The command line's implementation of the format, which shares no code
  // with the page's, opens what the page sealed.
  const got = mkdtempSync(path.join(own.files, "got-"));
  execFileSync(process.env.COURIER_BIN!, ["get", href, "-o", got]);
  expect(createHash("md5").update(readFileSync(path.join(got, name))).digest("hex")).toBe(md5);

  // Without its key, the link says so and shows nothing.
  const cut = await browser.newPage();
  await cut.goto(link);
  await expect(cut.getByText(/missing its key/)).toBeVisible();
  await cut.close();

  // What Courier and its store keep: ciphertext, and no name or key.
  const plaintext = readFileSync(file);
  const probe = plaintext.subarray(5 * MIB, 5 * MIB + 64);
  for (const kept of everyFile(own.dataDir)) {
    const bytes = readFileSync(kept);
    expect(bytes.includes(Buffer.from(name)), kept).toBe(false);
    expect(bytes.includes(Buffer.from(key)), kept).toBe(false);
    expect(bytes.includes(probe), kept).toBe(false);
  }
});

test("a file the command line encrypts with a password opens in the browser, after the password", async ({ browser }) => {
  test.setTimeout(90_000);
  const name = "budget 2027.ods";
  const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
  const password = "seven swans";
  const link = sendEncrypted(own, name, bytes, "--password", password);
  expect(link).toContain("#");

  const { context, visitor } = await recipient(browser);
  await visitor.goto(link);
  const form = visitor.locator("form.e2e-unlock");
  await form.locator("input").fill("eight swans");
  await form.getByRole("button").click();
  await expect(visitor.getByText("The password is wrong.")).toBeVisible();
  await form.locator("input").fill(password);
  await form.getByRole("button").click();
  const item = visitor.locator("li.share-file").filter({ hasText: name });
  await expect(item).toBeVisible();
  expect((await downloaded(visitor, item, name)).equals(bytes)).toBe(true);
  await context.close();
});

test("two encrypted files made one link: its key holds both files' secrets, and a fresh browser opens both", async ({
  page,
  browser,
}) => {
  test.setTimeout(90_000);
  // The name each file part of a form is sent under (Playwright does not
  // show bodies made of a Blob).
  await page.addInitScript(() => {
    const names: string[] = [];
    (window as unknown as { formFileNames: string[] }).formFileNames = names;
    const append = FormData.prototype.append;
    FormData.prototype.append = function (this: FormData, name: string, value: string | Blob, file?: string) {
      if (value instanceof Blob) names.push(file ?? "");
      return (append as (...args: unknown[]) => void).call(this, name, value, ...(file === undefined ? [] : [file]));
    } as typeof FormData.prototype.append;
  });
  await open(page);
  await page.getByTestId("encrypt").check();
  const files = [
    { name: "first note.txt", mimeType: "text/plain", buffer: Buffer.from("the first of two") },
    { name: "second note.txt", mimeType: "text/plain", buffer: Buffer.from("and the second one") },
  ];
  await page.locator("input[type=file]").setInputFiles(files);
  for (const { name } of files) {
    await expect(page.locator(".card[data-state='done']").filter({ hasText: name })).toBeVisible();
  }
  // Each file went to the store in a form naming it only "encrypted".
  expect(await page.evaluate(() => (window as unknown as { formFileNames: string[] }).formFileNames)).toEqual([
    "encrypted",
    "encrypted",
  ]);
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/api/combine_shares")),
    page.getByTestId("combine-shares").click(),
  ]);
  expect(answer.status()).toBe(200);
  const card = page.locator(".card").filter({ hasText: files[0].name });
  await expect(card.getByTestId("share-link")).toHaveAttribute("href", /#[A-Za-z0-9_-]{43}$/);
  const href = (await card.getByTestId("share-link").getAttribute("href"))!;
  await expect(page.locator(".card").filter({ hasText: files[1].name }).getByTestId("share-link")).toHaveAttribute("href", href);

  const { context, visitor } = await recipient(browser);
  await visitor.goto(href);
  // Chromium reads each chunk in place, and a chunk let go there is freed
  // no sooner: its chunks are left to the collector, which the page nudges.
  const copies = () => (window as unknown as { courierSeal: { readerCopiesHere(): boolean } }).courierSeal.readerCopiesHere();
  expect(await visitor.evaluate(copies)).toBe(false);
  for (const { name, buffer } of files) {
    const item = visitor.locator("li.share-file").filter({ hasText: name });
    await expect(item).toBeVisible();
    expect((await downloaded(visitor, item, name)).equals(buffer)).toBe(true);
  }
  await context.close();
});

/**
 * Routes `context`'s requests to the store (a service worker's too: Chromium
 * lets a context's routes see them) so that, by the range asked for, the
 * second range's URL has expired the first time (403, as S3 says it) and
 * the third range's connection breaks the first time; counts each range
 * asked for, and the renewals asked of Courier.
 */
async function expireAndBreak(context: BrowserContext, origin: string) {
  const asked: string[] = [];
  const renewals: string[] = [];
  await context.route(/X-Amz-Signature=/, async (route) => {
    const range = (await route.request().headerValue("range")) ?? "";
    const start = Number(/^bytes=(\d+)-/.exec(range)?.[1] ?? -1);
    asked.push(`${start}`);
    const times = asked.filter((seen) => seen === `${start}`).length;
    if (start === 16 * MIB && times === 1) {
      await route.fulfill({
        status: 403,
        headers: { "Access-Control-Allow-Origin": origin, "Content-Type": "application/xml" },
        body: "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
      });
    } else if ((start === 0 || start === 32 * MIB) && times === 1) {
      // The first range's before it answers (ready() asks again), the third's.
      await route.abort("connectionreset");
    } else {
      await route.continue();
    }
  });
  await context.route(/\/1\/e2e\/renew$/, async (route) => {
    renewals.push(route.request().method());
    await route.continue();
  });
  return {
    // Renewed once, through Courier; each range asked for again only where it failed.
    expectOneRenewalAndTwoRetries() {
      expect(renewals).toEqual(["POST"]);
      expect(asked.filter((start) => start === `${16 * MIB}`)).toHaveLength(2);
      expect(asked.filter((start) => start === `${32 * MIB}`)).toHaveLength(2);
      expect(asked.filter((start) => start === "0")).toHaveLength(2);
    },
  };
}

test("a download whose store URL expires mid-way renews it through Courier, and one whose connection breaks (before the first range answers, or in a later one) picks up where it broke, by either path", async ({
  browser,
}) => {
  test.setTimeout(90_000);
  const name = "survey.tif";
  // 40 MiB: three ranges of 16 MiB (seal.js's RANGE_BYTES).
  const bytes = Buffer.from(Array.from({ length: 40 * MIB }, (_, i) => (i * 31 + (i >> 16)) % 251));
  const href = sendEncrypted(own, name, bytes);
  const origin = new URL(href).origin;

  // The save-file picker's path: the page fetches.
  const { context: picking, visitor: picker } = await pickingVisitor(browser);
  const pickerStore = await expireAndBreak(picking, origin);
  await picker.goto(href);
  await picker.locator("li.share-file").filter({ hasText: name }).getByRole("button").click();
  await expect(picker.locator(".e2e-status")).toHaveText(`${name} is saved.`, { timeout: 60_000 });
  expect(await pickedSha256(picker)).toBe(createHash("sha256").update(bytes).digest("hex"));
  pickerStore.expectOneRenewalAndTwoRetries();
  await picking.close();

  // The service worker's path: the worker fetches, and renews.
  const { context, visitor } = await recipient(browser);
  const workerStore = await expireAndBreak(context, origin);
  await visitor.goto(href);
  const item = visitor.locator("li.share-file").filter({ hasText: name });
  expect(createHash("sha256").update(await downloaded(visitor, item, name)).digest("hex")).toBe(
    createHash("sha256").update(bytes).digest("hex"),
  );
  await expect(visitor.locator(".e2e-status")).toHaveText(`${name} is saved.`);
  workerStore.expectOneRenewalAndTwoRetries();
  await context.close();
});

test("a damaged object ends with a sentence through either path, never as a whole file", async ({ browser }) => {
  test.setTimeout(90_000);
  const name = "ledger.csv";
  // Five records, one byte changed in the third.
  const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 13) % 251));
  const link = sendDamaged(own, name, bytes, 2);
  const sentence = `${name} is damaged: part of it does not decrypt.`;

  // Through the service worker: the browser's download fails.
  const { context, visitor } = await recipient(browser);
  await visitor.goto(link);
  const item = visitor.locator("li.share-file").filter({ hasText: name });
  const [download] = await Promise.all([visitor.waitForEvent("download"), item.getByRole("button").click()]);
  expect(await download.failure()).not.toBeNull();
  await expect(visitor.locator(".e2e-status")).toContainText(sentence);
  await context.close();

  // Through the save-file picker: the same sentence, and the picked file aborted, not written.
  const { context: picking, visitor: picker } = await downloadThroughPicker(browser, link, name);
  await expect(picker.locator(".e2e-status")).toContainText(sentence, { timeout: 30_000 });
  const written = await picker.evaluate(async () => {
    const picked = await (await navigator.storage.getDirectory()).getFileHandle("picked");
    return (await picked.getFile()).size;
  });
  expect(written).toBe(0);
  await picking.close();
});
