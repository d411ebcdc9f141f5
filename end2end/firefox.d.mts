// The types of firefox.mjs, for the TypeScript tests.
import type { Browser } from "puppeteer-core";

export const firefoxPath: string;
export function launchFirefox(downloads: string): Promise<Browser>;
