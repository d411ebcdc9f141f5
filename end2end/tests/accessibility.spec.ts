import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";

import { openHydrated, sampleFile, throttleUploads } from "./helpers";

async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

for (const [label, width, height] of [
  ["desktop", 1100, 800],
  ["phone", 320, 640],
] as const) {
  test(`no serious accessibility problem while idle, uploading and finished (${label})`, async ({ page }) => {
    await page.setViewportSize({ width, height });
    await openHydrated(page);
    expect(await seriousViolations(page)).toEqual([]);

    await throttleUploads(page, 96 * 1024);
    await page.locator("input[type=file]").setInputFiles([
      { name: "photo of the whiteboard.png", mimeType: "image/png", buffer: sampleFile(600_000) },
      { name: "notes.txt", mimeType: "text/plain", buffer: sampleFile(3_000) },
    ]);
    const slow = page.locator(".card").filter({ hasText: "photo of the whiteboard.png" });
    await expect(slow.getByRole("progressbar")).not.toHaveAttribute("aria-valuenow", "0");
    await expect(page.locator(".card").filter({ hasText: "notes.txt" })).toHaveAttribute("data-state", "done");
    expect(await seriousViolations(page)).toEqual([]);
    // Nothing may overflow a phone's width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    if (process.env.COURIER_SCREENSHOTS) await page.screenshot({ path: `../docs/queue-uploading-${label}.png`, fullPage: true });

    await expect(slow).toHaveAttribute("data-state", "done", { timeout: 30_000 });
    expect(await seriousViolations(page)).toEqual([]);
    if (process.env.COURIER_SCREENSHOTS) await page.screenshot({ path: `../docs/queue-done-${label}.png`, fullPage: true });
  });
}
