import { expect, test } from "@playwright/test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { courierBinary, root, type RunningCourier, startCourier, testEnv } from "../courier-process";
import { downloadedMd5, expectOnlyMissingSent, reloadMidUpload, writeBigFile } from "./helpers";

// A large file in parts through the browser, on the three-node Garage
// cluster (`make garage`): its CORS for part PUTs with x-amz-checksum-sha256 (and its check of it), its
// list of parts after a reload, its completion. The embedded store's run
// of the same flows is multipart.spec.ts.
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
