import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { courierBinary, root, startCourier, testEnv } from "./courier-process";

/**
 * Starts the real server, with its embedded store unless COURIER_BUCKET names
 * one, on free loopback ports (port 0), and reads the bound address from its
 * "courier is ready" log line. Tests find it in COURIER_BASE_URL. Returns the
 * teardown.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const binary = courierBinary();
  const siteRoot = process.env.COURIER_SITE_ROOT ?? path.join(root, "target", "site");
  const dataDir = mkdtempSync(path.join(tmpdir(), "courier-e2e-"));
  const env = testEnv(siteRoot);
  // The share database, and the embedded store's data when there is one.
  env.COURIER_DATA_DIR = dataDir;
  if (process.env.COURIER_BUCKET) {
    env.COURIER_SECRET ??= "end-to-end-tests-secret-0123456789abcdef";
  } else {
    env.COURIER_EMBEDDED_S3_ADDR = "127.0.0.1:0";
  }
  const courier = await startCourier(env);
  const baseURL = courier.baseURL;
  if (process.env.COURIER_BUCKET) {
    // An external store (scripts/garage-cluster): its bucket's CORS rule must
    // name the app's origin, which is known now that the app has bound it.
    const setup = spawnSync(binary, ["setup-bucket"], {
      cwd: root,
      env: { ...env, COURIER_PUBLIC_URL: baseURL },
      encoding: "utf8",
    });
    if (setup.status !== 0) {
      courier.child.kill("SIGKILL");
      throw new Error(`courier setup-bucket failed:\n${setup.stdout}${setup.stderr}`);
    }
  }
  process.env.COURIER_BASE_URL = baseURL;
  process.env.COURIER_DATA_DIR = dataDir;
  process.env.COURIER_SITE_ROOT = siteRoot;

  return async () => {
    await courier.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
