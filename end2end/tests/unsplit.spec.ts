import { expect, test } from "@playwright/test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { type RunningCourier, startCourier, testEnv } from "../courier-process";
import { md5, sampleFile } from "./helpers";

// The site as a plain `cargo leptos build` (or `watch`) makes it, without
// `--split` and the `split` feature: the uploader is linked into the page's
// own module. `make site` builds it into COURIER_UNSPLIT_SITE_ROOT, with its
// assets' hashes in hash-unsplit.txt next to the server's binary, and
// `make e2e` passes that root.
const siteRoot = process.env.COURIER_UNSPLIT_SITE_ROOT;
let courier: RunningCourier | undefined;
let dataDir: string;

test.skip(!siteRoot, "COURIER_UNSPLIT_SITE_ROOT is not set (`make site` builds the unsplit site, `make e2e` passes it)");

test.beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "courier-unsplit-"));
  courier = await startCourier({
    ...testEnv(siteRoot!),
    LEPTOS_HASH_FILE_NAME: process.env.COURIER_UNSPLIT_HASH_FILE ?? "hash-unsplit.txt",
    COURIER_EMBEDDED_S3_ADDR: "127.0.0.1:0",
    COURIER_DATA_DIR: dataDir,
  });
});

test.afterAll(async () => {
  await courier?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("without the splitter the page hydrates from one module and uploads", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  const assets: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith("/pkg/")) assets.push(url.pathname);
  });

  await page.goto(courier!.baseURL);
  await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();

  const file = sampleFile(10 * 1024 + 3);
  await page.locator("input[type=file]").setInputFiles({ name: "unsplit.txt", mimeType: "text/plain", buffer: file });
  const result = page.getByTestId("result");
  await expect(result).toBeVisible();
  await expect(result.locator(".file-name")).toHaveText("unsplit.txt");
  const href = await result.locator("a.download-link").getAttribute("href");
  expect(href).toBeTruthy();
  const download = await page.request.get(href!);
  expect(download.status()).toBe(200);
  expect(md5(await download.body())).toBe(md5(file));

  // One module, nothing fetched lazily: this is the unsplit bundle.
  expect(assets.filter((asset) => asset.endsWith(".wasm"))).toEqual([expect.stringMatching(/^\/pkg\/courier\.[^/]*wasm$/)]);
  expect(assets.filter((asset) => asset.includes("wasm_split"))).toEqual([]);
  expect(errors).toEqual([]);
});
