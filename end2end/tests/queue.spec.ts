import { expect, test, type Page } from "@playwright/test";

import { baseURL, md5, openHydrated, sampleFile, throttleUploads } from "./helpers";

async function linkWorks(page: Page, card: ReturnType<Page["locator"]>, bytes: Buffer) {
  const href = await card.locator("a.download-link").getAttribute("href");
  const download = await page.request.get(href!);
  expect(download.status()).toBe(200);
  expect(md5(await download.body())).toBe(md5(bytes));
}

test("several files chosen at once each get a card and a working link", async ({ page }) => {
  await openHydrated(page);
  const files = [1, 2, 3, 4].map((n) => ({ name: `part ${n}.txt`, mimeType: "text/plain", buffer: sampleFile(10_000 * n) }));
  await page.locator("input[type=file]").setInputFiles(files);
  await expect(page.getByTestId("result")).toHaveCount(4);
  for (const file of files) {
    const card = page.getByTestId("result").filter({ hasText: file.name });
    await expect(card.locator(".progress")).toHaveAttribute("aria-valuenow", "100");
    await linkWorks(page, card, file.buffer);
  }
});

test("files dropped on the zone are uploaded", async ({ page }) => {
  await openHydrated(page);
  const dataTransfer = await page.evaluateHandle(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(["dropped one"], "dropped one.txt", { type: "text/plain" }));
    transfer.items.add(new File(["dropped two"], "dropped two.txt", { type: "text/plain" }));
    return transfer;
  });
  const zone = page.locator(".dropzone");
  await zone.dispatchEvent("dragover", { dataTransfer });
  await expect(zone).toHaveClass(/dragging/);
  await zone.dispatchEvent("drop", { dataTransfer });
  await expect(page.getByTestId("result")).toHaveCount(2);
  await linkWorks(page, page.getByTestId("result").filter({ hasText: "dropped two.txt" }), Buffer.from("dropped two"));
});

test("progress is shown as the bytes go, and ends at 100%", async ({ page }) => {
  await openHydrated(page);
  await throttleUploads(page, 256 * 1024);
  const file = sampleFile(1_000_000);
  await page.locator("input[type=file]").setInputFiles({ name: "slow.pdf", mimeType: "application/pdf", buffer: file });

  const bar = page.getByRole("progressbar", { name: "Uploading slow.pdf" });
  const seen = new Set<number>();
  const card = page.locator(".card").filter({ hasText: "slow.pdf" });
  while ((await card.getAttribute("data-state")) !== "done") {
    const now = await bar.getAttribute("aria-valuenow", { timeout: 1000 }).catch(() => null);
    if (now !== null) seen.add(Number(now));
    await page.waitForTimeout(100);
  }
  const intermediate = [...seen].filter((v) => v > 0 && v < 100);
  expect(intermediate.length, `values seen: ${[...seen]}`).toBeGreaterThan(1);
  await expect(bar).toHaveAttribute("aria-valuenow", "100");
  // The fill is drawn the whole width (scaleX(1); it starts at scaleX(0)).
  await expect(bar.locator(".progress-fill")).toHaveCSS("transform", "matrix(1, 0, 0, 1, 0, 0)");
  await linkWorks(page, card, file);
});

test("cancel stops an upload mid-way and confirms nothing", async ({ page }) => {
  await openHydrated(page);
  const store = (await page.locator("form.upload").getAttribute("action"))!;
  const confirms: string[] = [];
  const aborted: string[] = [];
  page.on("request", (request) => {
    if (request.url().includes("/confirm-upload")) confirms.push(request.url());
  });
  page.on("requestfailed", (request) => {
    if (request.method() === "POST" && request.url().startsWith(store)) aborted.push(request.failure()?.errorText ?? "");
  });
  // About 6 s at this rate: long enough for Cancel to come first on a slow
  // machine; had it not stopped the upload, it would be stored and confirmed
  // well within the wait below.
  await throttleUploads(page, 150 * 1024);
  await page.locator("input[type=file]").setInputFiles({ name: "stop me.pdf", mimeType: "application/pdf", buffer: sampleFile(900_000) });
  const card = page.locator(".card").filter({ hasText: "stop me.pdf" });
  await expect(card.getByRole("progressbar")).not.toHaveAttribute("aria-valuenow", "0");
  await card.getByRole("button", { name: "Cancel" }).click();
  await expect(card).toHaveAttribute("data-state", "cancelled");
  await expect(card).toContainText("Cancelled.");
  await expect(page.getByRole("status")).toHaveText("stop me.pdf: cancelled");
  await page.waitForTimeout(9_000);
  expect(aborted).toEqual(["net::ERR_ABORTED"]);
  expect(confirms).toEqual([]);
  await expect(card).toHaveAttribute("data-state", "cancelled");
  await expect(card.locator("a.download-link")).toHaveCount(0);
});

test("a failed upload can be retried", async ({ page }) => {
  await openHydrated(page);
  const action = (await page.locator("form.upload").getAttribute("action"))!;
  let attempts = 0;
  await page.route(`${action}**`, (route) => (attempts++ === 0 ? route.abort("connectionreset") : route.continue()));
  const file = sampleFile(2048);
  await page.locator("input[type=file]").setInputFiles({ name: "flaky.txt", mimeType: "text/plain", buffer: file });
  const card = page.locator(".card").filter({ hasText: "flaky.txt" });
  await expect(card).toHaveAttribute("data-state", "failed");
  await expect(card.getByRole("alert")).toHaveText("The upload could not reach the storage server. Check your connection and try again (retrying is safe).");
  await card.getByRole("button", { name: "Retry" }).click();
  await expect(card).toHaveAttribute("data-state", "done");
  await linkWorks(page, card, file);
  // A finished card can be removed.
  await card.getByRole("button", { name: "Remove" }).click();
  await expect(page.locator(".card")).toHaveCount(0);
});

test("the copy button puts the exact link on the clipboard", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(baseURL()).origin });
  await openHydrated(page);
  await page.locator("input[type=file]").setInputFiles({ name: "copy.txt", mimeType: "text/plain", buffer: Buffer.from("copy me") });
  const card = page.getByTestId("result");
  // The link to hand out is the share's, `<app>/s/<id>` (the store's direct link stays below it).
  const href = await card.getByTestId("share-link").getAttribute("href");
  expect(href).toMatch(/\/s\/[A-Za-z0-9_-]{22}$/);
  await card.getByRole("button", { name: "Copy link" }).click();
  await expect(card.getByRole("button", { name: "Copied ✓" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(href);
});

test("the whole flow works from the keyboard alone", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(baseURL()).origin });
  // As in browsers without the File System Access API: the plain picker
  // (Playwright cannot drive Chromium's own; multipart.spec.ts stands in for it).
  await page.addInitScript(() => Reflect.deleteProperty(window, "showOpenFilePicker"));
  await openHydrated(page);
  // The link choice is one Tab stop (its chosen option); arrows switch it.
  await page.keyboard.press("Tab");
  const expiring = page.getByRole("radio", { name: /Expiring link/ });
  await expect(expiring).toBeFocused();
  await page.keyboard.press("ArrowRight");
  await expect(page.getByRole("radio", { name: /Public link/ })).toBeFocused();
  await expect(page.getByRole("radio", { name: /Public link/ })).toHaveAttribute("aria-checked", "true");
  await page.keyboard.press("ArrowLeft");
  await expect(expiring).toBeFocused();
  await expect(expiring).toHaveAttribute("aria-checked", "true");
  // Tab on to the drop zone; Enter opens the picker.
  await page.keyboard.press("Tab");
  await expect(page.locator(".dropzone")).toBeFocused();
  // Space opens it too.
  const [spaced] = await Promise.all([page.waitForEvent("filechooser"), page.keyboard.press(" ")]);
  expect(spaced.isMultiple()).toBe(true);
  const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.keyboard.press("Enter")]);
  await chooser.setFiles({ name: "keys.txt", mimeType: "text/plain", buffer: Buffer.from("typed") });
  // Chosen files go at once: the Upload button is the plain form's, hidden here.
  await expect(page.getByRole("button", { name: "Upload", exact: true })).toBeHidden();
  const card = page.getByTestId("result");
  await expect(card).toBeVisible();
  // Tab on to the copy button.
  const copy = card.getByRole("button", { name: "Copy link" });
  for (let i = 0; i < 10 && !(await copy.evaluate((b) => b === document.activeElement)); i++) {
    await page.keyboard.press("Tab");
  }
  await expect(copy).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(card.getByRole("button", { name: "Copied ✓" })).toBeVisible();
  await expect(page.getByRole("status")).toHaveText("keys.txt: uploaded; its link is ready");
});

test("recent uploads come back after a reload, and can be cleared", async ({ page }) => {
  await openHydrated(page);
  await page.evaluate(() => localStorage.clear());
  const file = Buffer.from("remember me");
  await page.locator("input[type=file]").setInputFiles({ name: "kept.txt", mimeType: "text/plain", buffer: file });
  await expect(page.getByTestId("result")).toHaveCount(1);

  await page.reload();
  await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();
  const card = page.getByTestId("result").filter({ hasText: "kept.txt" });
  await expect(card).toBeVisible();
  // A new link for it, with the token kept in the browser.
  const [renewed] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/api/sign_download")),
    card.getByRole("button", { name: "New link" }).click(),
  ]);
  expect(renewed.status()).toBe(200);
  await linkWorks(page, card, file);

  await page.getByRole("button", { name: "Clear recent uploads" }).click();
  await expect(page.getByTestId("result")).toHaveCount(0);
  await page.reload();
  await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();
  await expect(page.getByTestId("result")).toHaveCount(0);
});

test("an image shows a preview while it uploads, from an object URL", async ({ page }) => {
  await openHydrated(page);
  // A 1×1 PNG.
  const png = Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
    "base64",
  );
  await page.locator("input[type=file]").setInputFiles({ name: "dot.png", mimeType: "image/png", buffer: png });
  const card = page.locator(".card").filter({ hasText: "dot.png" });
  const preview = card.locator("img.preview");
  await expect(preview).toHaveAttribute("src", /^blob:/);
  await expect(card).toHaveAttribute("data-state", "done");
  // The thumbnail stays whole once the file is up, even decoded anew (a
  // browser may drop a decoded image and read its URL again).
  expect(await preview.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1);
  const again = await preview.evaluate(async (img: HTMLImageElement) => {
    const fresh = new Image();
    fresh.src = img.src;
    return fresh.decode().then(() => fresh.naturalWidth, () => 0);
  });
  expect(again).toBe(1);
  // Text files get none.
  await page.locator("input[type=file]").setInputFiles({ name: "plain.txt", mimeType: "text/plain", buffer: Buffer.from("x") });
  await expect(page.locator(".card").filter({ hasText: "plain.txt" }).locator("img")).toHaveCount(0);
});

test("files pasted on the page are uploaded", async ({ page }) => {
  await openHydrated(page);
  await page.evaluate(() => {
    const data = new DataTransfer();
    data.items.add(new File(["pasted bytes"], "pasted.txt", { type: "text/plain" }));
    document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true }));
  });
  const card = page.getByTestId("result").filter({ hasText: "pasted.txt" });
  await linkWorks(page, card, Buffer.from("pasted bytes"));
  // The expiry reads both ways: a time, and how far away it is as people say
  // it (a one-hour link, not "59 min 59 s").
  await expect(card.locator(".expiry")).toContainText(/UTC \(in 1 hour\)\./);
});

test("once every byte is sent, the card says it is confirming", async ({ page }) => {
  await openHydrated(page);
  // Slow answers, so the wait for the store's answer and the confirmation shows.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 1500, downloadThroughput: -1, uploadThroughput: -1 });
  await page.locator("input[type=file]").setInputFiles({ name: "wait.txt", mimeType: "text/plain", buffer: sampleFile(4096) });
  const card = page.locator(".card").filter({ hasText: "wait.txt" });
  await expect(card).toHaveAttribute("data-state", "confirming");
  await expect(card).toContainText("Confirming…");
  await expect(card).toHaveAttribute("data-state", "done", { timeout: 30_000 });
});
