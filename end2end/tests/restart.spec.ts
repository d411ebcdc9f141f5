import { expect, test } from "@playwright/test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { type RunningCourier, startCourier, testEnv } from "../courier-process";
import { md5, sampleFile, throttleUploads } from "./helpers";

/** A free loopback port, for a Courier that must come back on the same one. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

// Courier restarts while a file is on its way: the store takes the file and
// redirects to a Courier that is not there. The page must not upload again:
// it confirms once Courier is back. The store must outlive the app, so it is
// another Courier's embedded store, used here as an external S3 bucket.
test("a file sent while Courier restarts is confirmed once it is back, and sent only once", async ({ page }) => {
  test.setTimeout(90_000);
  const siteRoot = process.env.COURIER_SITE_ROOT!;
  const dataDir = mkdtempSync(path.join(tmpdir(), "courier-restart-"));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const running: RunningCourier[] = [];
  try {
    // The store's CORS allows the app's origin (COURIER_PUBLIC_URL), known in advance.
    const storeHost = await startCourier({
      ...testEnv(siteRoot),
      COURIER_EMBEDDED_S3_ADDR: "127.0.0.1:0",
      COURIER_DATA_DIR: dataDir,
      COURIER_PUBLIC_URL: origin,
    });
    running.push(storeHost);
    const credentials = JSON.parse(readFileSync(path.join(dataDir, "credentials.json"), "utf8"));
    const appEnv = {
      ...testEnv(siteRoot),
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      COURIER_PUBLIC_URL: origin,
      COURIER_BUCKET: "courier",
      COURIER_SECRET: "restart-test-secret-0123456789abcdef0123",
      COURIER_S3_FORCE_PATH_STYLE: "true",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_S3: storeHost.storeURL!,
      AWS_ACCESS_KEY_ID: credentials.access_key_id,
      AWS_SECRET_ACCESS_KEY: credentials.secret_access_key,
    };
    const app = await startCourier(appEnv);
    running.push(app);

    await page.goto(origin);
    await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();
    const storePosts: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url().startsWith(storeHost.storeURL!)) storePosts.push(r.url());
    });
    // About 4 s on the wire: time to take the app down while the bytes go.
    await throttleUploads(page, 64 * 1024);
    const file = sampleFile(256 * 1024);
    await page.locator("input[type=file]").setInputFiles({ name: "during restart.pdf", mimeType: "application/pdf", buffer: file });
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await expect(page.locator(".card[data-state='uploading']")).toBeVisible();

    await app.stop();
    // The store took the file; its redirect found nobody; the page keeps asking.
    await expect(page.locator(".card[data-state='confirming']")).toContainText("Courier is not answering", { timeout: 20_000 });

    running.push(await startCourier(appEnv));
    const result = page.getByTestId("result");
    await expect(result).toBeVisible({ timeout: 30_000 });
    expect(storePosts).toHaveLength(1);
    const href = await result.locator("a.download-link").getAttribute("href");
    const download = await page.request.get(href!);
    expect(download.status()).toBe(200);
    expect(md5(await download.body())).toBe(md5(file));
  } finally {
    for (const courier of running.reverse()) await courier.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
