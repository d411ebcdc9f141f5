import { expect, test } from "@playwright/test";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

import { baseURL, md5, openHydrated, sampleFile } from "./helpers";

test("oversize and disallowed files are refused before anything is signed", async ({ page }) => {
  await openHydrated(page);
  const action = (await page.locator("form.upload").getAttribute("action"))!;
  const sent: string[] = [];
  page.on("request", (request) => {
    if (request.url().includes("/api/") || request.url().startsWith(action)) sent.push(request.url());
  });
  await expect(page.locator(".dropzone .hint").first()).toHaveText("Up to 1 MiB · image/*, application/pdf, text/plain");

  const input = page.locator("input[type=file]");
  await input.setInputFiles({ name: "huge.pdf", mimeType: "application/pdf", buffer: sampleFile(2 * 1024 * 1024) });
  await expect(page.getByRole("alert")).toHaveText("The file is 2 MiB but at most 1 MiB can be uploaded. Choose a smaller file.");

  await input.setInputFiles({ name: "page.html", mimeType: "text/html", buffer: Buffer.from("<h1>hi</h1>") });
  await expect(page.getByRole("alert").last()).toHaveText(
    "Files of type text/html are not accepted here. Accepted types: image/*, application/pdf, text/plain.",
  );
  await expect(page.locator(".card[data-state=failed]")).toHaveCount(2);
  expect(sent).toEqual([]);
});

test("a file name with markup is shown as text", async ({ page }) => {
  const dialogs: string[] = [];
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  await openHydrated(page);
  const name = "<img src=x onerror=alert(1)>.txt";
  await page.locator("input[type=file]").setInputFiles({ name, mimeType: "text/plain", buffer: Buffer.from("markup") });
  const result = page.getByTestId("result");
  await expect(result.locator(".file-name")).toHaveText(name);
  await expect(result.locator("img")).toHaveCount(0);
  expect(dialogs).toEqual([]);
});

test("the page hydrates and uploads under its CSP without a violation", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) =>
      console.error(`Content Security Policy violation: ${event.violatedDirective} ${event.blockedURI}`),
    );
  });
  const response = await page.goto(baseURL());
  const csp = response!.headers()["content-security-policy"];
  expect(csp).toContain("script-src 'self' 'nonce-");
  expect(csp).toContain("'wasm-unsafe-eval'");
  expect(response!.headers()["referrer-policy"]).toBe("no-referrer");
  await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();

  const file = sampleFile(5000);
  await page.locator("input[type=file]").setInputFiles({ name: "csp.txt", mimeType: "text/plain", buffer: file });
  const href = await page.getByTestId("result").locator("a.download-link").getAttribute("href");
  expect(md5(await (await page.request.get(href!)).body())).toBe(md5(file));
  expect(violations).toEqual([]);
});

test("an expired policy is signed again, once, by the client", async ({ page }) => {
  await openHydrated(page);
  const action = (await page.locator("form.upload").getAttribute("action"))!;
  let refusals = 0;
  await page.route(`${action}**`, async (route) => {
    if (refusals++ === 0) {
      await route.fulfill({
        status: 403,
        headers: { "content-type": "application/xml", "access-control-allow-origin": new URL(baseURL()).origin },
        body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`,
      });
    } else {
      await route.continue();
    }
  });
  let signed = 0;
  page.on("response", (response) => {
    if (response.url().endsWith("/api/sign_upload")) signed++;
  });
  const file = sampleFile(3000);
  await page.locator("input[type=file]").setInputFiles({ name: "late.txt", mimeType: "text/plain", buffer: file });
  const href = await page.getByTestId("result").locator("a.download-link").getAttribute("href");
  expect(signed).toBe(2);
  expect(md5(await (await page.request.get(href!)).body())).toBe(md5(file));
});

test("the release bundle holds neither secrets nor signing code", async () => {
  const credentials = JSON.parse(readFileSync(path.join(process.env.COURIER_DATA_DIR!, "credentials.json"), "utf8"));
  const pkg = path.join(process.env.COURIER_SITE_ROOT!, "pkg");
  const files = readdirSync(pkg).filter((f) => /\.(wasm|js)$/.test(f));
  expect(files.some((f) => f.endsWith(".wasm"))).toBe(true);
  const needles = [
    credentials.access_key_id,
    credentials.secret_access_key,
    credentials.courier_secret,
    // Strings only the server-side signer holds: if they are here, it compiled in.
    "courier-upload-token/v1",
    "aws4_request",
  ];
  for (const file of files) {
    const bytes = readFileSync(path.join(pkg, file));
    for (const needle of needles) {
      expect(bytes.includes(Buffer.from(needle)), `${needle.slice(0, 6)}… in ${file}`).toBe(false);
    }
  }
});

test("an unreachable store is named in a sentence", async ({ page }) => {
  await openHydrated(page);
  const action = (await page.locator("form.upload").getAttribute("action"))!;
  await page.route(`${action}**`, (route) => route.abort("connectionrefused"));
  await page.locator("input[type=file]").setInputFiles({ name: "a.txt", mimeType: "text/plain", buffer: Buffer.from("a") });
  await expect(page.getByRole("alert")).toHaveText(
    "The upload could not reach the storage server. Check your connection and try again (retrying is safe).",
  );
});
