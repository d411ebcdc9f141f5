import { expect, test } from "@playwright/test";

import { baseURL, md5, openHydrated, sampleFile } from "./helpers";

test("a public link downloads the same bytes in a fresh browser with nothing shared", async ({ page, browser }) => {
  await openHydrated(page);
  await page.getByRole("radio", { name: /Public link/ }).click();
  await expect(page.getByRole("radio", { name: /Public link/ })).toHaveAttribute("aria-checked", "true");

  const file = sampleFile(64 * 1024 + 5);
  await page.locator("input[type=file]").setInputFiles({ name: "gallery photo.png", mimeType: "image/png", buffer: file });

  const result = page.getByTestId("result");
  await expect(result).toBeVisible();
  await expect(result.locator(".expiry")).toHaveText("Anyone with this link can download it, until it is deleted.");
  await expect(result.getByRole("button", { name: "New link" })).toHaveCount(0);
  const href = await result.locator("a.download-link").getAttribute("href");
  expect(href).toContain("/public/files/");
  expect(href).not.toContain("X-Amz-Signature");

  // Another browser: no cookies, no storage, nothing signed.
  const stranger = await browser.newContext();
  try {
    const download = await stranger.request.get(href!);
    expect(download.status()).toBe(200);
    expect(md5(await download.body())).toBe(md5(file));
  } finally {
    await stranger.close();
  }
});

test("a file deleted from the recent uploads stops being served", async ({ page }) => {
  await openHydrated(page);
  const file = sampleFile(4096);
  await page.locator("input[type=file]").setInputFiles({ name: "mistake.txt", mimeType: "text/plain", buffer: file });
  await expect(page.getByTestId("result")).toBeVisible();
  const href = await page.getByTestId("result").locator("a.download-link").getAttribute("href");
  expect((await page.request.get(href!)).status()).toBe(200);

  // From the recent uploads list, after a reload.
  await openHydrated(page);
  const card = page.getByTestId("result").filter({ hasText: "mistake.txt" });
  await expect(card).toBeVisible();
  await card.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(card.getByRole("group", { name: "Delete the file" })).toContainText("Its link stops working for everyone.");
  const [deleted] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/api/delete_upload")),
    card.getByRole("button", { name: "Delete for good" }).click(),
  ]);
  expect(deleted.status()).toBe(200);
  await expect(page.locator(".card[data-state='deleted']")).toContainText("Deleted. Its link no longer works.");
  expect((await page.request.get(href!)).status()).toBe(404);

  // Forgotten: a reload no longer lists it.
  await openHydrated(page);
  await expect(page.locator(".card").filter({ hasText: "mistake.txt" })).toHaveCount(0);
});

test.describe("with JavaScript off", () => {
  test.use({ javaScriptEnabled: false });

  test("the plain form uploads for a public link once it is chosen", async ({ page, browser }) => {
    await page.goto(baseURL());
    await page.getByRole("radio", { name: /Public link/ }).click();
    await expect(page).toHaveURL(/\?link=public$/);
    await expect(page.getByRole("radio", { name: /Public link/ })).toHaveAttribute("aria-checked", "true");
    const file = sampleFile(2048);
    await page.locator("input[type=file]").setInputFiles({ name: "public form.txt", mimeType: "text/plain", buffer: file });
    await page.getByRole("button", { name: "Upload", exact: true }).click();

    const result = page.getByTestId("result");
    await expect(result).toBeVisible();
    await expect(result.locator(".expiry")).toHaveText("Anyone with this link can download it, until it is deleted.");
    // The confirm page is styled like the app: its stylesheet (hashed in release builds) loads.
    const css = await page.locator("link[rel=stylesheet]").getAttribute("href");
    expect((await page.request.get(new URL(css!, page.url()).href)).status()).toBe(200);
    const href = await result.locator("a.download-link").getAttribute("href");
    expect(href).toContain("/public/files/");
    const stranger = await browser.newContext();
    try {
      const download = await stranger.request.get(href!);
      expect(download.status()).toBe(200);
      expect(md5(await download.body())).toBe(md5(file));
    } finally {
      await stranger.close();
    }
  });
});
