import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import readline from "node:readline";

const root = path.resolve(__dirname, "..");

/**
 * Starts the real server, with its embedded store, on free loopback ports
 * (port 0), and reads the bound address from its "courier is ready" log line.
 * Tests find it in COURIER_BASE_URL. Returns the teardown.
 */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

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
  if (process.env.COURIER_BUCKET) {
    // An external store (scripts/garage-cluster): the bucket's CORS rule must
    // name the app's origin, so the port is chosen before the app starts.
    const port = await freePort();
    env.LEPTOS_SITE_ADDR = `127.0.0.1:${port}`;
    env.COURIER_PUBLIC_URL = `http://127.0.0.1:${port}`;
    env.COURIER_SECRET ??= "end-to-end-tests-secret-0123456789abcdef";
    const setup = spawnSync(binary, ["setup-bucket"], { cwd: root, env, encoding: "utf8" });
    if (setup.status !== 0) throw new Error(`courier setup-bucket failed:\n${setup.stdout}${setup.stderr}`);
  } else {
    env.LEPTOS_SITE_ADDR = "127.0.0.1:0";
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
