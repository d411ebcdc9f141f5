// Debian's WebKitGTK (the engine of Safari; `make browser` installs it): its
// MiniBrowser, driven over WebDriver by WebKitGTK's own WebKitWebDriver, on
// a virtual X display of its own (Xvfb). Playwright drives only its own
// patched WebKit, which cannot be downloaded here. For the browser tests
// (tests/webkit.spec.ts) and the bench (bench/share-download-webkit.mjs).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";

import { descendants } from "./proc.mjs";

export const webkitDriverPath = process.env.WEBKIT_DRIVER_PATH ?? "/usr/bin/WebKitWebDriver";
export const miniBrowserPath =
  process.env.WEBKIT_BROWSER_PATH ?? "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port nothing listens on now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Xvfb on the first free display; resolves to its name (":N") and process. */
function startDisplay() {
  return new Promise((resolve, reject) => {
    // -displayfd: Xvfb picks a free display and writes its number there.
    const xvfb = spawn("Xvfb", ["-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1280x900x24"], {
      stdio: ["ignore", "ignore", "ignore", "pipe"],
    });
    let said = "";
    xvfb.once("error", reject);
    xvfb.once("exit", (code) => reject(new Error(`Xvfb exited (${code}) before it had a display`)));
    xvfb.stdio[3].on("data", (chunk) => {
      said += chunk;
      if (said.includes("\n")) resolve({ display: `:${said.trim()}`, xvfb });
    });
  });
}

/** A WebKitGTK MiniBrowser whose downloads land in `downloads` without a
 * question, and which reaches nothing but loopback. Returns its WebDriver
 * commands, and `close`. */
export async function launchWebKit(downloads) {
  // Its own home: MiniBrowser saves where the XDG download folder is.
  const home = mkdtempSync(`${tmpdir()}/courier-webkit-`);
  mkdirSync(`${home}/.config`, { recursive: true });
  writeFileSync(`${home}/.config/user-dirs.dirs`, `XDG_DOWNLOAD_DIR="${downloads}"\n`);
  const { display, xvfb } = await startDisplay();
  const port = await freePort();
  const env = { ...process.env, HOME: home, DISPLAY: display, XDG_CONFIG_HOME: `${home}/.config`,
    XDG_CACHE_HOME: `${home}/.cache`, XDG_DATA_HOME: `${home}/.local/share`,
    // Mesa's shader cache was still being written after the browser had
    // closed (in CI, on the first launch), as its home was removed.
    MESA_SHADER_CACHE_DISABLE: "true", MESA_GLSL_CACHE_DISABLE: "true" };
  const driver = spawn(webkitDriverPath, [`--port=${port}`, "--host=127.0.0.1"], { stdio: "ignore", env });
  // A driver that cannot start (not installed) says so at once, and never exits.
  let unstarted = null;
  driver.once("error", (error) => {
    unstarted = error;
  });
  const base = `http://127.0.0.1:${port}`;
  const exited = (child) =>
    new Promise((resolve) => {
      if (unstarted && child === driver) return resolve();
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", resolve);
    });
  // The browser's processes (MiniBrowser and its web, network and GPU
  // processes, which outlive the driver for a moment) are waited for, then
  // the display, so that nothing of WebKit's still writes its home when
  // that is removed.
  const stop = async () => {
    const browser = descendants(driver.pid);
    driver.kill();
    await exited(driver);
    // A zombie (ended, not yet reaped) writes nothing either.
    const running = (pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
      } catch {
        return false;
      }
    };
    const alive = () => browser.filter(running);
    for (let waited = 0; alive().length > 0 && waited < 5_000; waited += 100) await sleep(100);
    for (const pid of alive()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    xvfb.kill();
    await exited(xvfb);
    // A test's outcome does not hang on its temporary folder: one that is
    // still being written to is tried again, then left with a warning.
    for (let tries = 1; ; tries++) {
      try {
        rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
        break;
      } catch (error) {
        if (tries === 5) {
          console.warn(`webkit.mjs: ${home} is left behind: ${error.message}`);
          break;
        }
        await sleep(1_000);
      }
    }
  };
  const call = async (method, path, body) => {
    const response = await fetch(base + path, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const { value } = await response.json();
    if (value && value.error) {
      const error = new Error(`${method} ${path}: ${value.error}: ${value.message}`);
      error.webdriver = value.error;
      throw error;
    }
    return value;
  };
  try {
    for (let tries = 0; ; tries++) {
      try {
        await call("GET", "/status");
        break;
      } catch (error) {
        if (unstarted) throw new Error(`${webkitDriverPath} did not start (make browser installs it): ${unstarted.message}`);
        if (tries > 100) throw error;
        await sleep(100);
      }
    }
    const { sessionId: id, capabilities } = await call("POST", "/session", {
      capabilities: {
        alwaysMatch: {
          "webkitgtk:browserOptions": {
            binary: miniBrowserPath,
            // Every request but loopback's goes to a closed port.
            args: ["--automation", "--proxy=http://127.0.0.1:9", "--ignore-host=127.0.0.1", "--ignore-host=localhost"],
          },
        },
      },
    });
    const session = `/session/${id}`;
    const element = (found) => found[ELEMENT];
    const webkit = {
      version: capabilities.browserVersion,
      /** The driver's process: the browser's processes are under it. */
      pid: driver.pid,
      goto: (url) => call("POST", `${session}/url`, { url }),
      /** `script`'s value in the page (a function body; `arguments` are `args`). */
      evaluate: (script, ...args) => call("POST", `${session}/execute/sync`, { script, args }),
      /** The first element `css` finds, once there is one (its WebDriver id). */
      find: async (css, ms = 30_000) => {
        const deadline = performance.now() + ms;
        for (;;) {
          try {
            return element(await call("POST", `${session}/element`, { using: "css selector", value: css }));
          } catch (error) {
            if (error.webdriver !== "no such element" || performance.now() > deadline) throw error;
            await sleep(100);
          }
        }
      },
      click: (found) => call("POST", `${session}/element/${found}/click`, {}),
      text: (found) => call("GET", `${session}/element/${found}/text`),
      attribute: (found, name) => call("GET", `${session}/element/${found}/attribute/${name}`),
      /** Chooses the file at `path` on a file input. */
      chooseFile: (found, path) => call("POST", `${session}/element/${found}/value`, { text: path }),
      close: async () => {
        await call("DELETE", session).catch(() => {});
        await stop();
      },
    };
    return webkit;
  } catch (error) {
    await stop();
    throw error;
  }
}
