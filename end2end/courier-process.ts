import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import readline from "node:readline";

export const root = path.resolve(__dirname, "..");

export interface RunningCourier {
  child: ChildProcess;
  /** The app's address, from its "courier is ready" log line. */
  baseURL: string;
  /** The embedded store's address, when it started one. */
  storeURL?: string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/** The `courier` binary the tests run (`make test` passes the debug one). */
export const courierBinary = () => process.env.COURIER_BIN ?? path.join(root, "target", "release", "courier");

/**
 * Starts `courier` with `env` and waits until it says it is ready; reads the
 * bound addresses from its log lines (port 0 picks free ones).
 */
export async function startCourier(env: NodeJS.ProcessEnv): Promise<RunningCourier> {
  const child = spawn(courierBinary(), [], {
    cwd: root,
    env: { RUST_LOG: "info", NO_COLOR: "1", ...env },
    stdio: ["ignore", "inherit", "pipe"],
  });
  let storeURL: string | undefined;
  const baseURL = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("courier did not start within 60 s")), 60_000);
    child.on("exit", (code) => reject(new Error(`courier exited early with code ${code}`)));
    child.on("error", reject);
    const lines = readline.createInterface({ input: child.stderr! });
    lines.on("line", (line) => {
      if (process.env.COURIER_E2E_LOGS) process.stderr.write(`[courier] ${line}\n`);
      const store = line.match(/embedded S3-compatible store.*endpoint=(http:\/\/[^\s]+)/);
      if (store) storeURL = store[1];
      const ready = line.match(/courier is ready app=(http:\/\/[^\s]+)/);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[1]);
      }
    });
  });
  const stop = () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      child.on("exit", () => {
        clearTimeout(timer);
        done();
      });
      child.kill("SIGTERM");
    });
  return { child, baseURL, storeURL, stop };
}

/** What every Courier the tests start shares: the release site, small limits. */
export function testEnv(siteRoot: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LEPTOS_SITE_ROOT: siteRoot,
    LEPTOS_OUTPUT_NAME: "courier",
    LEPTOS_ENV: "PROD",
    // Small enough that a test can exceed it; types the tests use.
    COURIER_MAX_UPLOAD_BYTES: String(1024 * 1024),
    COURIER_ALLOWED_TYPES: "image/*,application/pdf,text/plain",
    COURIER_RATE_LIMIT_BURST: "1000",
    LEPTOS_SITE_ADDR: "127.0.0.1:0",
  };
}
