import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { type Browser, type Page } from "puppeteer-core";

import { launchFirefox } from "../firefox.mjs";

import { md5 as md5sum, partsCourier, sendDamaged, sendEncrypted, writeBigFile } from "./helpers";

// The share page's other path, its service worker, in a browser it is there
// for: Firefox has no save-file picker.
const own = partsCourier("courier-firefox");
type Sealed = { courierSeal: { readerCopiesHere(): boolean } };
const RECORD = 65536;
const MIB = 1024 * 1024;

/** What the share page says of its downloads, once it says `wanted`
 * (polled from here: the page's CSP refuses the script puppeteer's own
 * waiting would make). */
async function status(page: Page, wanted: RegExp): Promise<string> {
  let line = "";
  await expect
    .poll(async () => {
      line = await page.evaluate(() => document.querySelector(".e2e-status")?.textContent ?? "");
      return wanted.test(line);
    }, { timeout: 60_000 })
    .toBe(true);
  return line;
}

/** Opens `link` in Firefox and clicks its file's Download, once the page
 * has opened the file's name. */
async function download(browser: Browser, link: string, name: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(link);
  const item = await page.waitForSelector(`li.share-file[data-number="1"]`, { timeout: 30_000 });
  expect(await item!.$eval("h3", (title) => title.textContent)).toBe(name);
  const button = await item!.$("button.share-download");
  expect(await page.evaluate(() => "showSaveFilePicker" in window)).toBe(false);
  await button!.click();
  return page;
}

test("in Firefox, an encrypted file streams through the share page's service worker into the downloads, whole", async () => {
  test.setTimeout(120_000);
  const name = "field notes.txt";
  // Not a whole number of records; more than the worker reads at once.
  const bytes = Buffer.from(Array.from({ length: 40 * RECORD + 4321 }, (_, i) => (i * 31 + (i >> 16)) % 256));
  const link = sendEncrypted(own, name, bytes);
  const downloads = mkdtempSync(path.join(own.files, "downloads-"));
  const browser = await launchFirefox(downloads);
  try {
    const page = await download(browser, link, name);
    expect(await status(page, /is saved\.$|did not|damaged|incomplete/)).toBe(`${name} is saved.`);
    // Firefox names the file as the worker's answer says, once it has it all.
    await expect.poll(() => readdirSync(downloads), { timeout: 30_000 }).toEqual([name]);
    expect(readFileSync(path.join(downloads, name)).equals(bytes)).toBe(true);
    // Each chunk was let go once Firefox had taken it (and copied it): the bytes above are whole all the same.
    expect(await page.evaluate(() => (window as unknown as Sealed).courierSeal.readerCopiesHere())).toBe(true);
  } finally {
    await browser.close();
  }
});

test("in Firefox, a damaged object ends with a sentence, and no whole file is in the downloads", async () => {
  test.setTimeout(120_000);
  const name = "ledger.csv";
  // 21 records, one byte changed in the 13th: some of the file reaches the downloads first.
  const bytes = Buffer.from(Array.from({ length: 20 * RECORD + 99 }, (_, i) => (i * 13) % 251));
  const link = sendDamaged(own, name, bytes, 12);
  const downloads = mkdtempSync(path.join(own.files, "downloads-"));
  const browser = await launchFirefox(downloads);
  try {
    const page = await download(browser, link, name);
    const said = await status(page, /damaged|did not/);
    // Firefox keeps what had arrived (a .part file, and an empty one under
    // the name): the sentence says so.
    expect(said).toContain(`${name} is damaged: part of it does not decrypt. Your browser may have kept part of it`);
    for (const kept of readdirSync(downloads)) {
      expect(readFileSync(path.join(downloads, kept)).equals(bytes), kept).toBe(false);
    }
  } finally {
    await browser.close();
  }
});

test("in Firefox, a file encrypted in parts opens with `courier get`, and in Firefox from its link", async () => {
  test.setTimeout(120_000);
  const name = "site survey.bin";
  // Three parts (the threshold is 8 MiB), the last one short.
  const { file, md5 } = writeBigFile(own.files, name, 20 * MIB + 777);
  const downloads = mkdtempSync(path.join(own.files, "downloads-"));
  const browser = await launchFirefox(downloads);
  try {
    const page = await browser.newPage();
    const parts = new Set<string>();
    page.on("request", (request) => {
      const part = new URL(request.url()).searchParams.get("partNumber");
      if (request.method() === "PUT" && part) parts.add(part);
    });
    await page.goto(own.courier.baseURL);
    await page.waitForSelector("form.upload[data-hydrated='true']", { timeout: 30_000 });
    await (await page.$("[data-testid=encrypt]"))!.click();
    await (await page.$("input[type=file]"))!.uploadFile(file);
    const card = (await page.waitForSelector(".card[data-state='done']", { timeout: 60_000 }))!;
    const href = (await card.$eval("[data-testid=share-link]", (link) => link.getAttribute("href")))!;
    expect(href).toMatch(/#[A-Za-z0-9_-]{22}$/);
    expect([...parts].sort()).toEqual(["1", "2", "3"]);

    const got = mkdtempSync(path.join(own.files, "got-"));
    execFileSync(process.env.COURIER_BIN!, ["get", href, "-o", got]);
    expect(md5sum(readFileSync(path.join(got, name)))).toBe(md5);

    await download(browser, href, name);
    await expect.poll(() => readdirSync(downloads), { timeout: 60_000 }).toEqual([name]);
    expect(md5sum(readFileSync(path.join(downloads, name)))).toBe(md5);
  } finally {
    await browser.close();
  }
});
