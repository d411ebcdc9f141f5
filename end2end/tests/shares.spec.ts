import { expect, test, type Browser, type Locator, type Page } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";

import { baseURL, md5, openHydrated } from "./helpers";

const PASSWORD = "plum tree 42, by the river";

/** The share's id: the last segment of its link, `<app>/s/<id>`. */
function shareId(href: string): string {
  const id = new URL(href).pathname.split("/").pop()!;
  expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  return id;
}

/**
 * A recipient opens the link in a browser of their own (nothing shared with
 * the sender's): the page asks for the password, refuses a wrong one with a
 * sentence (401), and shows the file once the right one is given. Returns
 * that page, on the file's Download link.
 */
async function unlock(browser: Browser, href: string, id: string) {
  const context = await browser.newContext();
  const visitor = await context.newPage();
  const opened = await visitor.goto(href);
  expect(opened?.status()).toBe(200);
  const password = visitor.locator("input[name=password]");
  await expect(password).toBeVisible();
  // Nothing of the file shows before the password.
  await expect(visitor.locator(`a[href="/s/${id}/1"]`)).toHaveCount(0);
  const form = visitor.locator("form").filter({ has: password });
  const posted = (r: { url(): string; request(): { method(): string } }) =>
    r.request().method() === "POST" && new URL(r.url()).pathname === `/s/${id}`;

  await password.fill("not the password");
  const [refused] = await Promise.all([visitor.waitForResponse(posted), form.getByRole("button").click()]);
  expect(refused.status()).toBe(401);
  await expect(visitor.getByText(/password is not right/)).toBeVisible();
  await expect(visitor.locator(`a[href="/s/${id}/1"]`)).toHaveCount(0);

  await visitor.locator("input[name=password]").fill(PASSWORD);
  await Promise.all([visitor.waitForResponse(posted), form.getByRole("button").click()]);
  const download = visitor.locator(`a[href="/s/${id}/1"]`);
  await expect(download).toBeVisible();
  return { context, visitor, download };
}

/** A finished card's share, once the rules for new links are on it. */
async function sharedCard(page: Page, name: string): Promise<{ card: Locator; href: string; id: string }> {
  const card = page.getByTestId("result").filter({ hasText: name });
  await expect(card).toBeVisible();
  const rules = card.getByTestId("share-rules");
  await expect(rules).toContainText("1 download left");
  await expect(rules).toContainText("Password set");
  const href = (await card.getByTestId("share-link").getAttribute("href"))!;
  return { card, href, id: shareId(href) };
}

// TODO(combine): two files as ONE share is not built yet (`combine`); each
// file is tested on its own share for now. Once it is, upload both as one
// share and test its two Download links, `/s/<id>/1` and `/s/<id>/2`.
test("a share with a password and one download: asked, refused, downloaded once, used up, counted, and taken back", async ({
  page,
  browser,
}) => {
  test.setTimeout(90_000);
  await openHydrated(page);

  // For new links: one download per file, and a password.
  const toggle = page.getByTestId("new-share-toggle");
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  await expect(page.getByTestId("new-share-expiry")).toHaveValue("168");
  await page.getByTestId("new-share-limit").fill("1");
  await page.getByTestId("new-share-password").fill(PASSWORD);

  const files = [
    { name: "share first.txt", mimeType: "text/plain", buffer: randomBytes(20_000) },
    { name: "share second.txt", mimeType: "text/plain", buffer: randomBytes(30_000) },
  ];
  await page.locator("input[type=file]").setInputFiles(files);
  await expect(page.getByTestId("result")).toHaveCount(2);
  const first = await sharedCard(page, files[0].name);
  const second = await sharedCard(page, files[1].name);
  expect(first.id).not.toBe(second.id);

  // The first file: unlocked, downloaded (the same bytes), then used up.
  {
    const { context, visitor, download } = await unlock(browser, first.href, first.id);
    try {
      const [saved] = await Promise.all([visitor.waitForEvent("download"), download.click()]);
      expect(saved.suggestedFilename()).toBe(files[0].name);
      expect(md5(await readFile(await saved.path()))).toBe(md5(files[0].buffer));
      const again = await visitor.goto(new URL(`/s/${first.id}/1`, first.href).href);
      expect(again?.status()).toBe(410);
      await expect(visitor.getByText(/download limit was reached/)).toBeVisible();
    } finally {
      await context.close();
    }
  }

  // The second file: unlocked too; its Download link is there, unused.
  {
    const { context } = await unlock(browser, second.href, second.id);
    await context.close();
  }

  // Back on the sender's page, after a reload (share_status): how far each went.
  await openHydrated(page);
  const firstCard = page.getByTestId("result").filter({ hasText: files[0].name });
  const secondCard = page.getByTestId("result").filter({ hasText: files[1].name });
  await expect(firstCard.getByTestId("share-rules")).toContainText("1 of 1 downloaded");
  await expect(firstCard.getByTestId("share-state")).toContainText("download limit was reached");
  await expect(firstCard.getByTestId("share-link")).toHaveCount(0);
  await expect(secondCard.getByTestId("share-rules")).toContainText("1 download left");

  // Take back asks first, then the link stops working for everyone.
  await secondCard.getByTestId("share-revoke").click();
  await expect(secondCard.getByRole("group", { name: "Take the link back" })).toContainText("stops working for everyone");
  const [revoked] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/api/revoke_share")),
    secondCard.getByTestId("share-revoke-confirm").click(),
  ]);
  expect(revoked.status()).toBe(200);
  await expect(secondCard.getByTestId("share-state")).toHaveText(
    "The sender took this link back, and its files were deleted.",
  );
  await expect(secondCard.getByRole("button", { name: "Copy link" })).toHaveCount(0);
  await expect(secondCard.getByTestId("share-qr-toggle")).toBeHidden();
  await expect(secondCard.getByTestId("share-settings-toggle")).toBeHidden();

  const stranger = await browser.newContext();
  try {
    const gone = await stranger.request.get(second.href);
    expect(gone.status()).toBe(410);
    expect(await gone.text()).toContain("The sender took this link back");
  } finally {
    await stranger.close();
  }

  // A reload remembers it.
  await openHydrated(page);
  await expect(
    page.getByTestId("result").filter({ hasText: files[1].name }).getByTestId("share-state"),
  ).toHaveText("The sender took this link back, and its files were deleted.");
});

test("the sender's link settings change a share's rules, and refuse what cannot be", async ({ page }) => {
  await openHydrated(page);
  await page.locator("input[type=file]").setInputFiles({ name: "settings.txt", mimeType: "text/plain", buffer: randomBytes(2048) });
  const card = page.getByTestId("result").filter({ hasText: "settings.txt" });
  await expect(card.getByTestId("share-rules")).toContainText("Unlimited downloads");
  // The Copy link button copies the share's link, and the QR code is the share's.
  const href = (await card.getByTestId("share-link").getAttribute("href"))!;
  const id = shareId(href);
  await card.getByTestId("share-qr-toggle").click();
  await expect(card.getByTestId("share-qr")).toHaveAttribute("src", `/s/${id}/qr.svg`);
  await expect(card.getByTestId("share-qr")).toHaveAttribute("alt", "QR code of the link");
  const qr = await page.request.get(new URL(`/s/${id}/qr.svg`, baseURL()).href);
  expect(qr.status()).toBe(200);
  expect(qr.headers()["content-type"]).toContain("image/svg+xml");
  // The direct link stays, secondary.
  await expect(card.locator("a.download-link")).toHaveAttribute("href", /^http/);

  const toggle = card.getByTestId("share-settings-toggle");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  await card.getByTestId("share-expiry").selectOption("0");
  await card.getByTestId("share-limit").fill("3");
  await card.getByTestId("share-password").fill("a new password");
  const [saved] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/api/update_share")),
    card.getByTestId("share-save").click(),
  ]);
  expect(saved.status()).toBe(200);
  await expect(card.getByTestId("share-rules")).toHaveText("Never expires · 3 downloads left · Password set");
  // The password leaves the page once sent.
  await expect(card.getByTestId("share-password")).toHaveValue("");

  // A limit that is not one is refused on the page, with a sentence.
  await card.getByTestId("share-limit").fill("0");
  await card.getByTestId("share-save").click();
  await expect(card.getByRole("alert")).toContainText("download limit");

  // Removing the password, and the limit (blank: unlimited).
  await card.getByTestId("share-limit").fill("");
  await card.getByTestId("share-remove-password").check();
  await card.getByTestId("share-save").click();
  await expect(card.getByTestId("share-rules")).toHaveText("Never expires · Unlimited downloads");

  // A reload shows the rules as they are now.
  await openHydrated(page);
  await expect(
    page.getByTestId("result").filter({ hasText: "settings.txt" }).getByTestId("share-rules"),
  ).toHaveText("Never expires · Unlimited downloads");
});
