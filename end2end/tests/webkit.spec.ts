import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

import { launchWebKit, type WebKit } from "../webkit.mjs";

import { md5 as md5sum, partsCourier, sendDamaged, sendEncrypted, writeBigFile } from "./helpers";

// The share page's service-worker path in WebKit, the engine of Safari
// (WebKitGTK's MiniBrowser: Safari itself does not run here). WebKit has no
// save-file picker either.
const own = partsCourier("courier-webkit");
const RECORD = 65536;
const MIB = 1024 * 1024;

/** What the share page says of its downloads, once it says `wanted`. */
async function status(webkit: WebKit, wanted: RegExp): Promise<string> {
  let line = "";
  await expect
    .poll(async () => {
      line = await webkit.evaluate<string>(`return document.querySelector(".e2e-status")?.textContent ?? ""`);
      return wanted.test(line);
    }, { timeout: 60_000 })
    .toBe(true);
  return line;
}

/** Opens `link` and clicks its file's Download, once the page has opened the file's name. */
async function download(webkit: WebKit, link: string, name: string) {
  await webkit.goto(link);
  const title = await webkit.find(`li.share-file[data-number="1"] h3`);
  await expect.poll(() => webkit.text(title)).toBe(name);
  expect(await webkit.evaluate(`return "showSaveFilePicker" in window`)).toBe(false);
  await webkit.click(await webkit.find(`li.share-file[data-number="1"] button.share-download`));
}

test("in WebKit, an encrypted file streams through the share page's service worker into the downloads, whole", async () => {
  test.setTimeout(120_000);
  const name = "field notes.txt";
  // Not a whole number of records; more than the worker reads at once.
  const bytes = Buffer.from(Array.from({ length: 40 * RECORD + 4321 }, (_, i) => (i * 31 + (i >> 16)) % 256));
  const link = sendEncrypted(own, name, bytes);
  const downloads = mkdtempSync(path.join(own.files, "downloads-"));
  const webkit = await launchWebKit(downloads);
  try {
    await download(webkit, link, name);
    expect(await status(webkit, /is saved\.$|did not|damaged|incomplete/)).toBe(`${name} is saved.`);
    await expect.poll(() => readdirSync(downloads), { timeout: 30_000 }).toEqual([name]);
    await expect.poll(() => readFileSync(path.join(downloads, name)).equals(bytes), { timeout: 30_000 }).toBe(true);
    // Each chunk was let go once WebKit had taken it (and copied it): the bytes above are whole all the same.
    expect(await webkit.evaluate(`return courierSeal.readerCopiesHere()`)).toBe(true);
  } finally {
    await webkit.close();
  }
});

test("in WebKit, a damaged object ends with a sentence, and no whole file is in the downloads", async () => {
  test.setTimeout(120_000);
  const name = "ledger.csv";
  // 21 records, one byte changed in the 13th: some of the file reaches the downloads first.
  const bytes = Buffer.from(Array.from({ length: 20 * RECORD + 99 }, (_, i) => (i * 13) % 251));
  const link = sendDamaged(own, name, bytes, 12);
  const downloads = mkdtempSync(path.join(own.files, "downloads-"));
  const webkit = await launchWebKit(downloads);
  try {
    await download(webkit, link, name);
    const said = await status(webkit, /damaged|did not/);
    expect(said).toContain(`${name} is damaged: part of it does not decrypt. Your browser may have kept part of it`);
    // WebKit keeps what had arrived under the file's own name (none of it
    // past the damaged record): the sentence says to delete it.
    for (const kept of readdirSync(downloads)) {
      const held = readFileSync(path.join(downloads, kept));
      expect(held.length, kept).toBeLessThanOrEqual(12 * RECORD);
      expect(held.equals(bytes.subarray(0, held.length)), kept).toBe(true);
    }
  } finally {
    await webkit.close();
  }
});

test("in WebKit, a file encrypted in parts opens with `courier get`, and in WebKit from its link", async () => {
  test.setTimeout(120_000);
  const name = "site survey.bin";
  // Three parts (the threshold is 8 MiB), the last one short.
  const { file, md5 } = writeBigFile(own.files, name, 20 * MIB + 777);
  const downloads = mkdtempSync(path.join(own.files, "downloads-"));
  const webkit = await launchWebKit(downloads);
  try {
    await webkit.goto(own.courier.baseURL);
    await webkit.find("form.upload[data-hydrated='true']");
    await webkit.click(await webkit.find("[data-testid=encrypt]"));
    await webkit.chooseFile(await webkit.find("input[type=file]"), file);
    await webkit.find(".card[data-state='done']", 60_000);
    const href = await webkit.attribute(await webkit.find(".card[data-state='done'] [data-testid=share-link]"), "href");
    expect(href).toMatch(/#[A-Za-z0-9_-]{22}$/);
    // The page's own record of what it sent: a PUT of each part.
    const parts = await webkit.evaluate<string[]>(
      `return performance.getEntriesByType("resource").map((entry) => new URL(entry.name).searchParams.get("partNumber")).filter(Boolean)`,
    );
    expect([...new Set(parts)].sort()).toEqual(["1", "2", "3"]);

    const got = mkdtempSync(path.join(own.files, "got-"));
    execFileSync(process.env.COURIER_BIN!, ["get", href!, "-o", got]);
    expect(md5sum(readFileSync(path.join(got, name)))).toBe(md5);

    await download(webkit, href!, name);
    // A fetch's body is no byte stream in WebKit: the page (and its worker)
    // read such an object in 4 MiB ranges, six here, not 16 MiB ones.
    expect(await webkit.evaluate(`return courierSeal.rangeBytesHere()`)).toBe(4 * MIB);
    await expect.poll(() => readdirSync(downloads), { timeout: 60_000 }).toEqual([name]);
    await expect.poll(() => md5sum(readFileSync(path.join(downloads, name))), { timeout: 30_000 }).toBe(md5);
  } finally {
    await webkit.close();
  }
});
