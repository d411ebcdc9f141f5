import { expect, type Page } from "@playwright/test";
import { createHash } from "node:crypto";

export const baseURL = () => {
  const url = process.env.COURIER_BASE_URL;
  if (!url) throw new Error("COURIER_BASE_URL is not set: global-setup did not start courier");
  return url;
};

export const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("hex");

export function sampleFile(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31) % 251;
  return bytes;
}

/** Opens the page and waits until the WASM client has taken the form over. */
export async function openHydrated(page: Page) {
  await page.goto(baseURL());
  await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();
}

/** Slows uploads down (Chrome DevTools Protocol), so progress can be watched. */
export async function throttleUploads(page: Page, bytesPerSecond: number) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  // Returned to change the rate later (-1: no limit); it lasts across reloads.
  const throttle = (rate: number) =>
    cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 20,
      downloadThroughput: -1,
      uploadThroughput: rate,
    });
  await throttle(bytesPerSecond);
  return throttle;
}
