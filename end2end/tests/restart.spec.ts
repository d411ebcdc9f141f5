import { expect, test } from "@playwright/test";

import { AppAndStore } from "../courier-process";
import { md5, sampleFile, throttleUploads } from "./helpers";

// Courier restarts while a file is on its way: the store takes the file and
// redirects to a Courier that is not there. The page must not upload again:
// it confirms once Courier is back. The store must outlive the app.
test("a file sent while Courier restarts is confirmed once it is back, and sent only once", async ({ page }) => {
  test.setTimeout(90_000);
  const both = await AppAndStore.start(process.env.COURIER_SITE_ROOT!);
  try {
    await page.goto(both.origin);
    await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();
    const storePosts: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url().startsWith(both.storeURL)) storePosts.push(r.url());
    });
    // About 4 s on the wire: time to take the app down while the bytes go.
    await throttleUploads(page, 64 * 1024);
    const file = sampleFile(256 * 1024);
    await page.locator("input[type=file]").setInputFiles({ name: "during restart.pdf", mimeType: "application/pdf", buffer: file });
    await expect(page.locator(".card[data-state='uploading']")).toBeVisible();

    await both.app.stop();
    // The store took the file; its redirect found nobody; the page keeps asking.
    await expect(page.locator(".card[data-state='confirming']")).toContainText("Courier is not answering", { timeout: 20_000 });

    await both.startApp();
    const result = page.getByTestId("result");
    await expect(result).toBeVisible({ timeout: 30_000 });
    expect(storePosts).toHaveLength(1);
    const href = await result.locator("a.download-link").getAttribute("href");
    const download = await page.request.get(href!);
    expect(download.status()).toBe(200);
    expect(md5(await download.body())).toBe(md5(file));
  } finally {
    await both.stopAll();
  }
});
