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
  // The last lines it logged, so a failed start says why.
  const said: string[] = [];
  const baseURL = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`courier did not start within 60 s:\n${said.join("\n")}`)), 60_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`courier exited early with code ${code}:\n${said.join("\n")}`));
    });
    child.on("error", reject);
    const lines = readline.createInterface({ input: child.stderr! });
    lines.on("line", (line) => {
      if (process.env.COURIER_E2E_LOGS) process.stderr.write(`[courier] ${line}\n`);
      said.push(line);
      if (said.length > 20) said.shift();
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

/**
 * A free loopback port for a server that must come back on the same one,
 * picked below the kernel's ephemeral range: while that server is down, no
 * outgoing connection (nor a port-0 bind) can be given its port, and a
 * client retrying it cannot connect to itself on it (a loopback connect to
 * a closed port in the ephemeral range can land on that very port), either
 * of which kept a restarted store from binding.
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
  const low = 10_000;
  if (!(ephemeralLow > low + 1_000)) throw new Error(`no room below the ephemeral ports (they start at ${ephemeralLow})`);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (ephemeralLow - low));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found between ${low} and ${ephemeralLow}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.on("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * Starts a Courier on the fixed port its `env` names. Another program may
 * hold that port for a moment (it was free when picked, but is not
 * reserved): try again for a few seconds rather than fail the test on it.
 */
async function startOnItsPort(env: NodeJS.ProcessEnv): Promise<RunningCourier> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startCourier(env);
    } catch (error) {
      const inUse = error instanceof Error && /address already in use|os error 98/i.test(error.message);
      if (!inUse || attempt === 10) throw error;
      await new Promise((wait) => setTimeout(wait, 500));
    }
  }
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
        // The app's share database, beside the store's data.
        COURIER_DATA_DIR: dataDir,
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
    this.app = await startOnItsPort(this.appEnv);
    this.running.push(this.app);
  }

  async startStore() {
    this.store = await startOnItsPort(this.storeEnv);
    this.running.push(this.store);
  }

  /** Stops everything still running and removes the store's files. */
  async stopAll() {
    for (const courier of this.running.reverse()) await courier.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
