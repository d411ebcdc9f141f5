import { expect, test } from "@playwright/test";

import { baseURL, md5, openHydrated, sampleFile } from "./helpers";

test("the hydrated page uploads in place and shows a working link", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await openHydrated(page);
  // The hydrated page says what it takes, and files go without an Upload button.
  await expect(page.locator(".picker-title")).toHaveText("Drop files here, paste them, or choose", { useInnerText: true });
  await expect(page.getByRole("button", { name: "Upload", exact: true })).toBeHidden();

  // Anything that reloads or navigates the page would lose this marker.
  await page.evaluate(() => ((window as any).__courierMarker = "still here"));
  const urlBefore = page.url();
  let navigations = 0;
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) navigations++;
  });

  const file = sampleFile(256 * 1024 + 17);
  await page.locator("input[type=file]").setInputFiles({ name: "Quarterly report.pdf", mimeType: "application/pdf", buffer: file });

  const result = page.getByTestId("result");
  await expect(result).toBeVisible();
  await expect(result.locator(".file-name")).toHaveText("Quarterly report.pdf");
  await expect(result.locator(".file-size")).toHaveText("256 KiB");
  await expect(result.locator(".expiry")).toContainText("The link works until");

  expect(await page.evaluate(() => (window as any).__courierMarker)).toBe("still here");
  expect(page.url()).toBe(urlBefore);
  expect(navigations).toBe(0);

  const href = await result.locator("a.download-link").getAttribute("href");
  expect(href).toBeTruthy();
  const download = await page.request.get(href!);
  expect(download.status()).toBe(200);
  expect(download.headers()["content-disposition"]).toContain("filename*=UTF-8''Quarterly%20report.pdf");
  const body = await download.body();
  expect(body.length).toBe(file.length);
  expect(md5(body)).toBe(md5(file));

  // "New link" signs a fresh URL for the same file, still in place.
  const [renewed] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/api/sign_download")),
    result.getByRole("button", { name: "New link" }).click(),
  ]);
  expect(renewed.status()).toBe(200);
  const freshLink = await renewed.json();
  await expect(result.locator("a.download-link")).toHaveAttribute("href", freshLink.download_url);
  const fresh = await result.locator("a.download-link").getAttribute("href");
  const again = await page.request.get(fresh!);
  expect(md5(await again.body())).toBe(md5(file));
  expect(await page.evaluate(() => (window as any).__courierMarker)).toBe("still here");
  expect(errors).toEqual([]);
});

test("a store refusal is shown as a sentence, not a code", async ({ page }) => {
  await openHydrated(page);
  const action = await page.locator("form.upload").getAttribute("action");
  // The store answers as AWS does to a file over the policy's limit.
  await page.route(`${action}**`, (route) =>
    route.fulfill({
      status: 400,
      headers: { "content-type": "application/xml", "access-control-allow-origin": new URL(baseURL()).origin },
      body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed object size.</Message></Error>`,
    }),
  );
  await page.locator("input[type=file]").setInputFiles({ name: "big.txt", mimeType: "text/plain", buffer: sampleFile(1000) });
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("larger than the 1 MiB this upload allows");
  await expect(alert).not.toContainText("EntityTooLarge");
});

test.describe("with JavaScript off", () => {
  test.use({ javaScriptEnabled: false });

  test("the plain form posts to the store and ends on the confirm page with a working link", async ({ page }) => {
    await page.goto(baseURL());
    // The plain form's words: one file, then Upload.
    await expect(page.locator(".picker-title")).toHaveText("Choose a file", { useInnerText: true });
    const file = sampleFile(4096);
    await page.locator("input[type=file]").setInputFiles({ name: "plain form.txt", mimeType: "text/plain", buffer: file });
    await Promise.all([page.waitForURL(/\/confirm-upload\?/), page.getByRole("button", { name: "Upload", exact: true }).click()]);

    const result = page.getByTestId("result");
    await expect(result.locator(".file-name")).toHaveText("plain form.txt");
    await expect(result.locator(".file-size")).toHaveText("4 KiB");
    const href = await result.locator("a.download-link").getAttribute("href");
    const download = await page.request.get(href!);
    expect(download.status()).toBe(200);
    expect(md5(await download.body())).toBe(md5(file));
  });
});

test("a first visit loads only the form's code; the uploader's module comes with the first file", async ({ page }) => {
  const modules: string[] = [];
  page.on("request", (request) => {
    const name = new URL(request.url()).pathname.split("/").pop() ?? "";
    if (name.endsWith(".wasm")) modules.push(name);
  });
  await openHydrated(page);
  await page.waitForLoadState("networkidle");
  expect(modules.filter((m) => m.startsWith("split_uploader."))).toEqual([]);
  expect(modules.filter((m) => m.startsWith("courier."))).toHaveLength(1);

  await page.locator("input[type=file]").setInputFiles({ name: "first.txt", mimeType: "text/plain", buffer: sampleFile(1000) });
  await expect(page.getByTestId("result")).toBeVisible();
  expect(modules.filter((m) => m.startsWith("split_uploader."))).toHaveLength(1);

  // Loaded once: the next file uses the same module.
  await page.locator("input[type=file]").setInputFiles({ name: "second.txt", mimeType: "text/plain", buffer: sampleFile(2000) });
  await expect(page.getByTestId("result")).toHaveCount(2);
  expect(modules.filter((m) => m.startsWith("split_uploader."))).toHaveLength(1);
});

test("when the uploader's module cannot be loaded, the page says so, and bringing the files again works", async ({ page }) => {
  await openHydrated(page);
  let refuse = true;
  await page.route("**/split_uploader.*.wasm", (route) => (refuse ? route.abort("connectionreset") : route.continue()));
  await page.locator("input[type=file]").setInputFiles({ name: "lost.txt", mimeType: "text/plain", buffer: sampleFile(1000) });
  await expect(page.locator("p.error[role=alert]")).toContainText("could not load its uploader");

  refuse = false;
  await page.locator("input[type=file]").setInputFiles({ name: "again.txt", mimeType: "text/plain", buffer: sampleFile(1000) });
  await expect(page.getByTestId("result")).toBeVisible();
  await expect(page.locator("p.error[role=alert]")).toHaveCount(0);
});

test("a returning visitor's browser asks the server for none of the page's code again", async ({ page }) => {
  await openHydrated(page);
  // Reaching for the form loads the uploader's module ahead of the first file.
  const uploader = page.waitForResponse(/\/pkg\/split_uploader\.[^/]*\.wasm$/);
  await page.locator("form.upload").hover();
  await uploader;
  await page.waitForLoadState("networkidle");

  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  // What came over the network (a 304's headers included), and what from the cache.
  const names = new Map<string, string>();
  const asked: string[] = [];
  const cached: string[] = [];
  cdp.on("Network.responseReceived", (event) => {
    const url = event.response.url;
    if (url.includes("/pkg/")) names.set(event.requestId, `${url.split("/").pop()} ${event.response.status}`);
  });
  cdp.on("Network.loadingFinished", (event) => {
    const name = names.get(event.requestId);
    if (name) (event.encodedDataLength > 0 ? asked : cached).push(name);
  });
  await page.goto(baseURL());
  await expect(page.locator("form.upload[data-hydrated='true']")).toBeVisible();
  await page.locator("form.upload").hover();
  await page.locator("input[type=file]").setInputFiles({ name: "back.txt", mimeType: "text/plain", buffer: sampleFile(1000) });
  await expect(page.getByTestId("result")).toBeVisible();
  // Not even a 304: every asset, the split loader among them, is kept for good.
  expect(asked).toEqual([]);
  expect(cached.some((c) => c.startsWith("split_uploader."))).toBe(true);
  expect(cached.some((c) => c.startsWith("__wasm_split."))).toBe(true);
});
