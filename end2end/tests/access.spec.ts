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
