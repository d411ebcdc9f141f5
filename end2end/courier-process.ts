import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
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

/** A free loopback port, for a server that must come back on the same one. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * Courier on a store that lives apart from it, so either can stop and come
 * back on its own port: the store is another Courier's embedded store, used
 * as an external S3 bucket (its CORS allows the app's origin, known in advance).
 */
export class AppAndStore {
  private running: RunningCourier[] = [];
  app!: RunningCourier;
  store!: RunningCourier;
  readonly origin: string;
  readonly storeURL: string;

  private constructor(
    private readonly appEnv: NodeJS.ProcessEnv,
    private readonly storeEnv: NodeJS.ProcessEnv,
    private readonly dataDir: string,
  ) {
    this.origin = appEnv.COURIER_PUBLIC_URL!;
    this.storeURL = appEnv.AWS_ENDPOINT_URL_S3!;
  }

  static async start(siteRoot: string): Promise<AppAndStore> {
    const dataDir = mkdtempSync(path.join(tmpdir(), "courier-apart-"));
    const [appPort, storePort] = [await freePort(), await freePort()];
    const origin = `http://127.0.0.1:${appPort}`;
    const storeEnv = {
      ...testEnv(siteRoot),
      COURIER_EMBEDDED_S3_ADDR: `127.0.0.1:${storePort}`,
      COURIER_DATA_DIR: dataDir,
      COURIER_PUBLIC_URL: origin,
    };
    const both = new AppAndStore(
      {
        ...testEnv(siteRoot),
        LEPTOS_SITE_ADDR: `127.0.0.1:${appPort}`,
        COURIER_PUBLIC_URL: origin,
        COURIER_BUCKET: "courier",
        COURIER_SECRET: "apart-test-secret-0123456789abcdef0123456",
        COURIER_S3_FORCE_PATH_STYLE: "true",
        AWS_REGION: "us-east-1",
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${storePort}`,
      },
      storeEnv,
      dataDir,
    );
    await both.startStore();
    const credentials = JSON.parse(readFileSync(path.join(dataDir, "credentials.json"), "utf8"));
    both.appEnv.AWS_ACCESS_KEY_ID = credentials.access_key_id;
    both.appEnv.AWS_SECRET_ACCESS_KEY = credentials.secret_access_key;
    await both.startApp();
    return both;
  }

  async startApp() {
    this.app = await startCourier(this.appEnv);
    this.running.push(this.app);
  }

  async startStore() {
    this.store = await startCourier(this.storeEnv);
    this.running.push(this.store);
  }

  /** Stops everything still running and removes the store's files. */
  async stopAll() {
    for (const courier of this.running.reverse()) await courier.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
