import { expect, test } from "@playwright/test";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { courierBinary, root, type RunningCourier, startCourier, testEnv } from "../courier-process";
import { downloadedMd5, expectOnlyMissingSent, pickedSha256, pickingVisitor, recipient, reloadMidUpload, writeBigFile } from "./helpers";

// A large file in parts through the browser, on the three-node Garage
// cluster (`make garage`): its CORS for part PUTs with x-amz-checksum-sha256 (and its check of it), its
// list of parts after a reload, its completion; and an encrypted share's
// download, which reads the object in ranges. The embedded store's run of
// the same flows is multipart.spec.ts (and encryption.spec.ts).
test.skip(!process.env.COURIER_BUCKET, "needs the Garage cluster (make garage)");

const MIB = 1024 * 1024;
let courier: RunningCourier;
let files: string;

test.beforeAll(async () => {
  files = mkdtempSync(path.join(tmpdir(), "courier-garage-parts-"));
  const env = {
    ...testEnv(process.env.COURIER_SITE_ROOT!),
    COURIER_SECRET: "end-to-end-tests-secret-0123456789abcdef",
    COURIER_MAX_UPLOAD_BYTES: String(64 * MIB),
    COURIER_ALLOWED_TYPES: "",
    COURIER_MULTIPART_THRESHOLD: String(8 * MIB),
  };
  courier = await startCourier(env);
  // This page's origin must be in the bucket's CORS rules too.
  const setup = spawnSync(courierBinary(), ["setup-bucket"], {
    cwd: root,
    env: { ...env, COURIER_PUBLIC_URL: courier.baseURL },
    encoding: "utf8",
  });
  expect(setup.status, `${setup.stdout}${setup.stderr}`).toBe(0);
});

test.afterAll(async () => {
  await courier?.stop();
  rmSync(files, { recursive: true, force: true });
});

test("on Garage, a large file goes up in parts, and after a reload only the missing parts go", async ({ page }) => {
  test.setTimeout(120_000);
  const { file, md5 } = writeBigFile(files, "garage parts.bin", 40 * MIB);
  await page.goto(courier.baseURL);
  await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();
  const { parts, storedBefore } = await reloadMidUpload(
    page,
    () => page.locator("input[type=file]").setInputFiles(file),
    60_000,
  );

  const card = page.locator(".card").filter({ hasText: "garage parts.bin" });
  await expect(card).toHaveAttribute("data-state", "paused");
  await page.locator("input[type=file]").setInputFiles(file);
  await expect(card).toHaveAttribute("data-state", "done", { timeout: 60_000 });
  expectOnlyMissingSent(parts, storedBefore);
  expect(await downloadedMd5(page, card)).toBe(md5);
});

test("on Garage, an encrypted file's share page reads its object in ranges, by both of its paths", async ({ browser }) => {
  test.setTimeout(120_000);
  const { file, md5 } = writeBigFile(files, "garage sealed.bin", 40 * MIB);
  const href = execFileSync(courierBinary(), ["send", file, "--url", courier.baseURL]).toString().trim();
  expect(href).toContain("#");

  // The save-file picker's path: the page fetches, answered with a file of
  // the origin's private file system.
  const { context: picking, visitor: picker } = await pickingVisitor(browser);
  const ranges: string[] = [];
  picker.on("request", (request) => {
    const range = request.headers()["range"];
    if (range && request.url().includes("X-Amz-Signature=")) ranges.push(range);
  });
  await picker.goto(href);
  await picker.locator("li.share-file").getByRole("button").click();
  await expect(picker.locator(".e2e-status")).toHaveText("garage sealed.bin is saved.", { timeout: 60_000 });
  expect(await pickedSha256(picker)).toBe(createHash("sha256").update(readFileSync(file)).digest("hex"));
  const objectEnd = 40 * MIB + 16 * 640 - 1;
  expect(ranges).toEqual([`bytes=0-${16 * MIB - 1}`, `bytes=${16 * MIB}-${32 * MIB - 1}`, `bytes=${32 * MIB}-${objectEnd}`]);
  await picking.close();

  // The service worker's path (no picker): into the browser's downloads.
  const { context: streaming, visitor } = await recipient(browser);
  await visitor.goto(href);
  const [download] = await Promise.all([
    visitor.waitForEvent("download"),
    visitor.locator("li.share-file").getByRole("button").click(),
  ]);
  expect(download.suggestedFilename()).toBe("garage sealed.bin");
  expect(createHash("md5").update(readFileSync((await download.path())!)).digest("hex")).toBe(md5);
  await streaming.close();
});
