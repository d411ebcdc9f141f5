import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import readline from "node:readline";

const root = path.resolve(__dirname, "..");

/**
 * Starts the real server, with its embedded store unless COURIER_BUCKET names
 * one, on free loopback ports (port 0), and reads the bound address from its
 * "courier is ready" log line. Tests find it in COURIER_BASE_URL. Returns the
 * teardown.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const binary = process.env.COURIER_BIN ?? path.join(root, "target", "release", "courier");
  const siteRoot = process.env.COURIER_SITE_ROOT ?? path.join(root, "target", "site");
  const dataDir = mkdtempSync(path.join(tmpdir(), "courier-e2e-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LEPTOS_SITE_ROOT: siteRoot,
    LEPTOS_OUTPUT_NAME: "courier",
    LEPTOS_ENV: "PROD",
    // Small enough that a test can exceed it; types the tests use.
    COURIER_MAX_UPLOAD_BYTES: String(1024 * 1024),
    COURIER_ALLOWED_TYPES: "image/*,application/pdf,text/plain",
    COURIER_RATE_LIMIT_BURST: "1000",
    RUST_LOG: "info",
    NO_COLOR: "1",
  };
  env.LEPTOS_SITE_ADDR = "127.0.0.1:0";
  if (process.env.COURIER_BUCKET) {
    env.COURIER_SECRET ??= "end-to-end-tests-secret-0123456789abcdef";
  } else {
    env.COURIER_EMBEDDED_S3_ADDR = "127.0.0.1:0";
    env.COURIER_DATA_DIR = dataDir;
  }
  const child = spawn(binary, [], { cwd: root, env, stdio: ["ignore", "inherit", "pipe"] });

  const baseURL = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("courier did not start within 60 s")), 60_000);
    child.on("exit", (code) => reject(new Error(`courier exited early with code ${code}`)));
    child.on("error", reject);
    const lines = readline.createInterface({ input: child.stderr! });
    lines.on("line", (line) => {
      if (process.env.COURIER_E2E_LOGS) process.stderr.write(`[courier] ${line}\n`);
      const ready = line.match(/courier is ready app=(http:\/\/[^\s]+)/);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[1]);
      }
    });
  });
  if (process.env.COURIER_BUCKET) {
    // An external store (scripts/garage-cluster): its bucket's CORS rule must
    // name the app's origin, which is known now that the app has bound it.
    const setup = spawnSync(binary, ["setup-bucket"], {
      cwd: root,
      env: { ...env, COURIER_PUBLIC_URL: baseURL },
      encoding: "utf8",
    });
    if (setup.status !== 0) {
      child.kill("SIGKILL");
      throw new Error(`courier setup-bucket failed:\n${setup.stdout}${setup.stderr}`);
    }
  }
  process.env.COURIER_BASE_URL = baseURL;
  process.env.COURIER_DATA_DIR = dataDir;
  process.env.COURIER_SITE_ROOT = siteRoot;

  return async () => {
    child.kill("SIGTERM");
    await new Promise((done) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        done(undefined);
      }, 5_000);
      child.on("exit", () => {
        clearTimeout(timer);
        done(undefined);
      });
    });
    rmSync(dataDir, { recursive: true, force: true });
  };
}
