// Debian's Firefox ESR (`make browser` installs it), headless, driven over
// WebDriver BiDi by puppeteer-core: Playwright drives only its own patched
// Firefox, which cannot be downloaded here. For the browser tests
// (tests/firefox.spec.ts) and the bench (bench/share-download-firefox.mjs).
import puppeteer from "puppeteer-core";

export const firefoxPath = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";

/** A headless Firefox whose downloads land in `downloads` without a
 * question, and which reaches nothing but loopback; with `linkProxy` (a
 * port on 127.0.0.1: bench/link-proxy.mjs), loopback too through it. */
export function launchFirefox(downloads, { linkProxy } = {}) {
  return puppeteer.launch({
    browser: "firefox",
    executablePath: firefoxPath,
    headless: true,
    extraPrefsFirefox: {
      "browser.download.folderList": 2,
      "browser.download.dir": downloads,
      "browser.download.useDownloadDir": true,
      "browser.download.always_ask_before_handling_new_types": false,
      // Every request but loopback's goes to a closed port.
      "network.proxy.type": 1,
      "network.proxy.http": "127.0.0.1",
      "network.proxy.http_port": 9,
      "network.proxy.ssl": "127.0.0.1",
      "network.proxy.ssl_port": 9,
      "network.proxy.no_proxies_on": "127.0.0.1,localhost",
      ...(linkProxy && {
        "network.proxy.http_port": linkProxy,
        "network.proxy.no_proxies_on": "",
        "network.proxy.allow_hijacking_localhost": true,
      }),
      "network.dns.disablePrefetch": true,
    },
  });
}
