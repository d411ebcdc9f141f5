import { expect, test } from "@playwright/test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { type RunningCourier, startCourier, testEnv } from "../courier-process";
import { md5, sampleFile } from "./helpers";

// A Courier that takes uploads only from people who know its upload
// password (COURIER_UPLOAD_ACCESS=password); its links work for anyone.
const PASSWORD = "correct horse battery staple";
const own = {} as { courier: RunningCourier; dataDir: string };

test.beforeAll(async () => {
  own.dataDir = mkdtempSync(path.join(tmpdir(), "courier-access-"));
  own.courier = await startCourier({
    ...testEnv(process.env.COURIER_SITE_ROOT!),
    COURIER_EMBEDDED_S3_ADDR: "127.0.0.1:0",
    COURIER_DATA_DIR: own.dataDir,
    COURIER_UPLOAD_ACCESS: "password",
    COURIER_UPLOAD_PASSWORD: PASSWORD,
  });
});

test.afterAll(async () => {
  await own.courier?.stop();
  rmSync(own.dataDir, { recursive: true, force: true });
});

test("a browser signs in with the upload password, uploads, signs out; its link works for someone who never signed in", async ({
  page,
  browser,
}) => {
  await page.goto(own.courier.baseURL);
  // Not signed in: the form asks for the password; there is no uploader.
  await expect(page.getByRole("heading", { name: "Sign in to upload" })).toBeVisible();
  await expect(page.locator("form.upload")).toHaveCount(0);

  // A wrong password: said, and asked again.
  await page.getByLabel("Upload password").fill("battery staple horse correct");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText(/That is not this Courier's upload password/);
  await expect(page.getByLabel("Upload password")).toHaveAttribute("aria-invalid", "true");

  // The right one: back on the page, which now uploads in place.
  await page.getByLabel("Upload password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${own.courier.baseURL}/`);
  await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();
  const cookies = await page.context().cookies();
  const session = cookies.find((cookie) => cookie.name === "courier-session");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Strict");
  // The page's script cannot read it.
  expect(await page.evaluate(() => document.cookie)).not.toContain("courier-session");

  const file = sampleFile(64 * 1024 + 5);
  await page.locator("input[type=file]").setInputFiles({ name: "minutes.pdf", mimeType: "application/pdf", buffer: file });
  const result = page.getByTestId("result");
  await expect(result.locator(".file-name")).toHaveText("minutes.pdf");
  const href = await result.locator("a.download-link").getAttribute("href");

  // Someone who never signed in downloads it.
  const stranger = await browser.newContext();
  const download = await stranger.request.get(href!);
  expect(download.status()).toBe(200);
  expect(md5(await download.body())).toBe(md5(file));
  // ...but cannot upload: the page asks for the password.
  const strangerPage = await stranger.newPage();
  await strangerPage.goto(own.courier.baseURL);
  await expect(strangerPage.getByRole("heading", { name: "Sign in to upload" })).toBeVisible();
  await stranger.close();

  // Signing out: the page asks again.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in to upload" })).toBeVisible();
});

test("a file request made by a signed-in browser takes files from someone who never signed in; its maker sees them arrive", async ({
  page,
  browser,
}) => {
  await page.goto(own.courier.baseURL);
  await page.getByLabel("Upload password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();

  // The maker asks for two files, 2 MiB in all, for a day (a file is at most 1 MiB here).
  await page.getByTestId("request-toggle").click();
  await page.getByTestId("request-files").fill("2");
  await page.getByTestId("request-size").fill("0.001953125");
  await page.getByTestId("request-days").fill("1");
  await page.getByTestId("request-make").click();
  const card = page.getByTestId("request-card");
  await expect(card).toHaveCount(1);
  await expect(card.getByTestId("request-standing")).toContainText("0 of 2 files");
  const requestUrl = await card.getByTestId("request-url").getAttribute("href");
  expect(requestUrl).toMatch(/\/r\/[A-Za-z0-9_-]{22}$/);

  // Someone who never signed in opens it in a fresh browser and sends two files.
  const stranger = await browser.newContext();
  const sender = await stranger.newPage();
  await sender.goto(requestUrl!);
  await expect(sender.getByTestId("request-room")).toContainText("send up to 2 files");
  await expect(sender.getByRole("heading", { name: "Sign in to upload" })).toHaveCount(0);
  await expect(sender.locator("form.upload[data-hydrated='true']")).toBeVisible();
  const contract = sampleFile(64 * 1024 + 7);
  const scan = sampleFile(900 * 1024 + 1);
  await sender.locator("input[type=file]").setInputFiles([
    { name: "contract.pdf", mimeType: "application/pdf", buffer: contract },
    { name: "scan.png", mimeType: "image/png", buffer: scan },
  ]);
  const results = sender.getByTestId("result");
  await expect(results).toHaveCount(2);
  await expect(results.locator(".file-name")).toHaveText(["contract.pdf", "scan.png"]);
  // The sender gets each file's own link, and no control of the maker's link.
  await expect(sender.getByTestId("share-settings-toggle")).toHaveCount(0);
  // The request has all it asked for: a third file is refused with a sentence.
  await sender.locator("input[type=file]").setInputFiles({ name: "extra.pdf", mimeType: "application/pdf", buffer: contract });
  await expect(sender.getByRole("alert").filter({ hasText: "has all the files it asked for (2)" })).toBeVisible();
  await stranger.close();

  // The maker's page sees them arrive, in one link of theirs that works for anyone.
  await expect(card.getByTestId("request-standing")).toContainText("2 of 2 files", { timeout: 15_000 });
  // In the order they arrived (the two went up at once, so either first).
  await expect(card.getByTestId("request-file")).toHaveCount(2);
  const arrived = (await card.getByTestId("request-file").allTextContents()).map((line) => line.split(" (")[0]);
  expect([...arrived].sort()).toEqual(["contract.pdf", "scan.png"]);
  const sent: Record<string, Buffer> = { "contract.pdf": contract, "scan.png": scan };
  const shareUrl = await card.getByTestId("request-share").getAttribute("href");
  const reader = await browser.newContext();
  for (const [index, name] of arrived.entries()) {
    const download = await reader.request.get(`${shareUrl}/${index + 1}`);
    expect(download.status()).toBe(200);
    expect(md5(await download.body())).toBe(md5(sent[name]));
  }
  await reader.close();

  // Closed: its link takes no more files, and says so.
  await card.getByTestId("request-close").click();
  await expect(card).toHaveAttribute("data-state", "closed");
  const late = await browser.newContext();
  const latePage = await late.newPage();
  const answer = await latePage.goto(requestUrl!);
  expect(answer?.status()).toBe(410);
  await expect(latePage.getByRole("alert")).toContainText("closed by the person who made it");
  await late.close();
});
