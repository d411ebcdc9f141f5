import { expect, test } from "@playwright/test";

import { AppAndStore } from "../courier-process";
import { md5, sampleFile } from "./helpers";

const STORE_GONE = "The storage could not be reached to check the file. Nothing is lost: try again in a moment (retrying is safe).";

// The store is down while a person uploads, and later while they ask for a
// new link: each time the card says so and that retrying is safe, and Retry
// and "New link" work once the store is back.
test("a store that is down is named, and retrying works once it is back", async ({ page }) => {
  test.setTimeout(90_000);
  const both = await AppAndStore.start(process.env.COURIER_SITE_ROOT!);
  try {
    await page.goto(both.origin);
    await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();
    const storePosts: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url().startsWith(both.storeURL)) storePosts.push(r.url());
    });

    await both.store.stop();
    const file = sampleFile(40 * 1024);
    await page.locator("input[type=file]").setInputFiles({ name: "while down.pdf", mimeType: "application/pdf", buffer: file });
    const card = page.locator(".card").filter({ hasText: "while down.pdf" });
    await expect(card).toHaveAttribute("data-state", "failed", { timeout: 20_000 });
    await expect(card.getByRole("alert")).toContainText(STORE_GONE);

    await both.startStore();
    await card.getByRole("button", { name: "Retry" }).click();
    await expect(card).toHaveAttribute("data-state", "done", { timeout: 20_000 });
    // Courier was asked first whether the file had arrived (it had not), then it went again.
    expect(storePosts).toHaveLength(2);
    const link = card.locator("a.download-link");
    const first = await link.getAttribute("href");
    const download = await page.request.get(first!);
    expect(md5(await download.body())).toBe(md5(file));

    await both.store.stop();
    await card.getByRole("button", { name: "New link" }).click();
    await expect(card.getByRole("alert")).toContainText(STORE_GONE, { timeout: 20_000 });
    await both.startStore();
    const renewal = page.waitForResponse((r) => new URL(r.url()).pathname.endsWith("/api/sign_download"));
    await card.getByRole("button", { name: "New link" }).click();
    await expect(card.getByRole("alert")).toHaveCount(0, { timeout: 20_000 });
    // The card shows the link Courier just signed. (Within the second of the
    // first one it is the same URL: SigV4 dates are to the second.)
    const signed = await renewal;
    expect(signed.status()).toBe(200);
    await expect(link).toHaveAttribute("href", (await signed.json()).download_url);
    const renewed = await page.request.get((await link.getAttribute("href"))!);
    expect(md5(await renewed.body())).toBe(md5(file));
  } finally {
    await both.stopAll();
  }
});
