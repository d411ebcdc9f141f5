import { expect, test, type Browser, type Locator, type Page } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";

import { baseURL, openHydrated } from "./helpers";

const PASSWORD = "plum tree 42, by the river";

/** The share's id: the last segment of its link, `<app>/s/<id>`. */
function shareId(href: string): string {
  const id = new URL(href).pathname.split("/").pop()!;
  expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  return id;
}

/**
 * A recipient opens the link in a browser of their own (nothing shared with
 * the sender's): the page asks for the password, shows nothing of the files
 * before it, refuses a wrong one with a sentence (401), and shows every
 * file once the right one is given. Returns that page.
 */
async function unlock(browser: Browser, href: string, id: string, names: string[]) {
  const context = await browser.newContext();
  const visitor = await context.newPage();
  const opened = await visitor.goto(href);
  expect(opened?.status()).toBe(200);
  const password = visitor.locator("input[name=password]");
  await expect(password).toBeVisible();
  // Nothing of the files shows before the password.
  await expect(visitor.locator(`a[href^="/s/${id}/"]`)).toHaveCount(0);
  for (const name of names) await expect(visitor.getByText(name)).toHaveCount(0);
  const form = visitor.locator("form").filter({ has: password });
  const posted = (r: { url(): string; request(): { method(): string } }) =>
    r.request().method() === "POST" && new URL(r.url()).pathname === `/s/${id}`;

  await password.fill("not the password");
  const [refused] = await Promise.all([visitor.waitForResponse(posted), form.getByRole("button").click()]);
  expect(refused.status()).toBe(401);
  await expect(visitor.getByText(/password is not right/)).toBeVisible();
  await expect(visitor.locator(`a[href^="/s/${id}/"]`)).toHaveCount(0);

  await visitor.locator("input[name=password]").fill(PASSWORD);
  await Promise.all([visitor.waitForResponse(posted), form.getByRole("button").click()]);
  for (const [i, name] of names.entries()) {
    await expect(visitor.locator(`a[href="/s/${id}/${i + 1}"]`)).toBeVisible();
    await expect(visitor.getByText(name).first()).toBeVisible();
  }
  return { context, visitor };
}

/** A finished card's share, once its rules line says `rules` (each part). */
async function sharedCard(page: Page, name: string, ...rules: string[]): Promise<{ card: Locator; href: string; id: string }> {
  const card = page.getByTestId("result").filter({ hasText: name });
  await expect(card).toBeVisible();
  for (const part of rules) await expect(card.getByTestId("share-rules")).toContainText(part);
  const href = (await card.getByTestId("share-link").getAttribute("href"))!;
  return { card, href, id: shareId(href) };
}

/** Clicks "One link for all"; the answer of `combine_shares`. */
async function combine(page: Page) {
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/api/combine_shares")),
    page.getByTestId("combine-shares").click(),
  ]);
  return answer;
}

const random = (name: string, size: number) => ({ name, mimeType: "text/plain", buffer: randomBytes(size) });

test("two files as one link with a password and one download: asked, refused, both downloaded once, used up, counted; another taken back whole", async ({
  page,
  browser,
}) => {
  test.setTimeout(120_000);
  await openHydrated(page);

  // For new links: one download per file, and a password.
  const toggle = page.getByTestId("new-share-toggle");
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  await expect(page.getByTestId("new-share-expiry")).toHaveValue("168");
  await page.getByTestId("new-share-limit").fill("1");
  await page.getByTestId("new-share-password").fill(PASSWORD);

  const files = [random("share first.txt", 20_000), random("share second.txt", 30_000)];
  // Nothing to make one link of before there are two.
  await expect(page.getByTestId("combine-shares")).toHaveCount(0);
  await page.locator("input[type=file]").setInputFiles(files);
  await expect(page.getByTestId("result")).toHaveCount(2);
  // Each file got its own link first, with the rules for new links.
  const first = await sharedCard(page, files[0].name, "1 download left", "Password set");
  const second = await sharedCard(page, files[1].name, "1 download left", "Password set");
  expect(first.id).not.toBe(second.id);

  // One link for both, with the same rules; both cards show it.
  const combined = await combine(page);
  expect(combined.status()).toBe(200);
  const one = await sharedCard(page, files[0].name, "2 files", "1 download left", "Password set");
  const same = await sharedCard(page, files[1].name, "2 files", "1 download left", "Password set");
  expect(same.href).toBe(one.href);
  expect([first.id, second.id]).not.toContain(one.id);
  // One link left: nothing more to make one of.
  await expect(page.getByTestId("combine-shares")).toHaveCount(0);
  // The two links it replaced no longer exist.
  for (const old of [first, second]) expect((await page.request.get(old.href)).status()).toBe(404);

  // A recipient: asked, refused, then both files, each downloaded once (the same bytes), then used up.
  {
    const { context, visitor } = await unlock(
      browser,
      one.href,
      one.id,
      files.map((file) => file.name),
    );
    try {
      for (const [i, file] of files.entries()) {
        const [saved] = await Promise.all([
          visitor.waitForEvent("download"),
          visitor.locator(`a[href="/s/${one.id}/${i + 1}"]`).click(),
        ]);
        expect(saved.suggestedFilename()).toBe(file.name);
        expect((await readFile(await saved.path())).equals(file.buffer)).toBe(true);
      }
      const again = await visitor.goto(new URL(`/s/${one.id}/1`, one.href).href);
      expect(again?.status()).toBe(410);
      await expect(visitor.getByText(/download limit was reached/)).toBeVisible();
    } finally {
      await context.close();
    }
  }

  // Back on the sender's page, after a reload (share_status, each share
  // asked about once): how far it went, on both cards.
  const asked: string[] = [];
  page.on("request", (request) => {
    if (request.url().endsWith("/api/share_status")) asked.push(request.postData() ?? "");
  });
  await openHydrated(page);
  for (const file of files) {
    const card = page.getByTestId("result").filter({ hasText: file.name });
    await expect(card.getByTestId("share-rules")).toContainText("1 of 1 downloaded");
    await expect(card.getByTestId("share-rules")).toContainText("2 files");
    await expect(card.getByTestId("share-state")).toContainText("download limit was reached");
    await expect(card.getByTestId("share-link")).toHaveCount(0);
    // Over: there is nothing to take back.
    await expect(card.getByTestId("share-revoke")).toBeHidden();
  }
  expect(asked).toHaveLength(1);
  expect(asked[0].match(/shares%5B\d+%5D%5Bid%5D/g)).toHaveLength(1);
  await expect(page.getByTestId("combine-shares")).toHaveCount(0);

  // Two more files (the rules for new links are the defaults again), made
  // one link: the used one is not part of it. Then taken back, whole.
  const more = [random("share third.txt", 10_000), random("share fourth.txt", 12_000)];
  await page.locator("input[type=file]").setInputFiles(more);
  await expect(page.getByTestId("result")).toHaveCount(4);
  await sharedCard(page, more[0].name, "Unlimited downloads");
  await sharedCard(page, more[1].name, "Unlimited downloads");
  expect((await combine(page)).status()).toBe(200);
  const third = await sharedCard(page, more[0].name, "2 files", "Unlimited downloads");
  const fourth = await sharedCard(page, more[1].name, "2 files");
  expect(fourth.href).toBe(third.href);
  expect(third.id).not.toBe(one.id);
  const direct = await Promise.all(
    [third, fourth].map(async ({ card }) => (await card.locator("a.download-link").getAttribute("href"))!),
  );
  for (const href of direct) expect((await page.request.get(href)).status()).toBe(200);

  // Take back asks first, then the link stops working for everyone, on both cards.
  await third.card.getByTestId("share-revoke").click();
  await expect(third.card.getByRole("group", { name: "Take the link back" })).toContainText("stops working for everyone");
  const [revoked] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/api/revoke_share")),
    third.card.getByTestId("share-revoke-confirm").click(),
  ]);
  expect(revoked.status()).toBe(200);
  for (const { card } of [third, fourth]) {
    await expect(card.getByTestId("share-state")).toHaveText("The sender took this link back, and its files were deleted.");
    await expect(card.getByRole("button", { name: "Copy link" })).toHaveCount(0);
    await expect(card.getByTestId("share-qr-toggle")).toBeHidden();
    await expect(card.getByTestId("share-settings-toggle")).toBeHidden();
    await expect(card.getByTestId("share-revoke")).toBeHidden();
  }

  const stranger = await browser.newContext();
  try {
    const gone = await stranger.request.get(third.href);
    expect(gone.status()).toBe(410);
    expect(await gone.text()).toContain("The sender took this link back");
  } finally {
    await stranger.close();
  }
  // Its files are gone from the store: their direct links answer 404.
  for (const href of direct) {
    await expect.poll(async () => (await page.request.get(href)).status()).toBe(404);
  }

  // A reload remembers it, on both cards.
  await openHydrated(page);
  for (const file of more) {
    await expect(page.getByTestId("result").filter({ hasText: file.name }).getByTestId("share-state")).toHaveText(
      "The sender took this link back, and its files were deleted.",
    );
  }
});

test("one link for all is refused, with a sentence, once one of the links was downloaded; the others still can be", async ({
  page,
}) => {
  await openHydrated(page);
  const files = [random("used.txt", 1000), random("fresh one.txt", 1000), random("fresh two.txt", 1000)];
  await page.locator("input[type=file]").setInputFiles(files);
  await expect(page.getByTestId("result")).toHaveCount(3);
  const cards = await Promise.all(files.map((file) => sharedCard(page, file.name, "Unlimited downloads")));

  // Someone downloads the first file through its link; this page does not know yet.
  const downloaded = await page.request.get(new URL(`/s/${cards[0].id}/1`, cards[0].href).href);
  expect(downloaded.status()).toBe(200);

  const refused = await combine(page);
  expect(refused.status()).toBe(400);
  const alert = page.locator(".queue-actions").getByRole("alert");
  await expect(alert).toContainText("downloaded already");
  // Nothing changed: each file keeps its own link; the used one shows its download.
  for (const card of cards) {
    await expect(card.card.getByTestId("share-link")).toHaveAttribute("href", card.href);
    await expect(card.card.getByTestId("share-rules")).not.toContainText("files");
  }
  await expect(cards[0].card.getByTestId("share-rules")).toContainText("(1 so far)");

  // The other two still can be made one link.
  expect((await combine(page)).status()).toBe(200);
  await expect(alert).toHaveCount(0);
  const two = await sharedCard(page, files[1].name, "2 files");
  const three = await sharedCard(page, files[2].name, "2 files");
  expect(three.href).toBe(two.href);
  await expect(cards[0].card.getByTestId("share-link")).toHaveAttribute("href", cards[0].href);
  await expect(page.getByTestId("combine-shares")).toHaveCount(0);
});

test("with one link for the files of each drop, the files chosen together get one link once they are all up", async ({
  page,
}) => {
  await openHydrated(page);
  await page.getByTestId("new-share-toggle").click();
  await page.getByTestId("new-share-limit").fill("2");
  const together = page.getByTestId("new-share-together");
  await expect(together).not.toBeChecked();
  await together.check();

  const files = [random("drop one.txt", 3000), random("drop two.txt", 4000)];
  await page.locator("input[type=file]").setInputFiles(files);
  const one = await sharedCard(page, files[0].name, "2 files", "2 downloads left");
  const two = await sharedCard(page, files[1].name, "2 files", "2 downloads left");
  expect(two.href).toBe(one.href);
  await expect(page.getByTestId("combine-shares")).toHaveCount(0);

  // A file chosen on its own keeps a link of its own.
  await page.locator("input[type=file]").setInputFiles(random("alone.txt", 1000));
  const alone = await sharedCard(page, "alone.txt", "2 downloads left");
  await expect(alone.card.getByTestId("share-rules")).not.toContainText("files");
  expect(alone.href).not.toBe(one.href);

  // A reload remembers the one link on both cards.
  await openHydrated(page);
  for (const file of files) {
    await expect(page.getByTestId("result").filter({ hasText: file.name }).getByTestId("share-link")).toHaveAttribute(
      "href",
      one.href,
    );
  }
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
