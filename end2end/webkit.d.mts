// The types of webkit.mjs, for the TypeScript tests.
export const webkitDriverPath: string;
export const miniBrowserPath: string;

/** WebDriver commands to one MiniBrowser; elements are WebDriver ids. */
export interface WebKit {
  version: string;
  pid: number;
  goto(url: string): Promise<void>;
  evaluate<T = unknown>(script: string, ...args: unknown[]): Promise<T>;
  find(css: string, ms?: number): Promise<string>;
  click(element: string): Promise<void>;
  text(element: string): Promise<string>;
  attribute(element: string, name: string): Promise<string | null>;
  chooseFile(element: string, path: string): Promise<void>;
  close(): Promise<void>;
}

export function launchWebKit(downloads: string): Promise<WebKit>;
