// What both large-upload drivers share: their arguments, and the line
// handshake with bench/run.py (see big-upload.mjs).
import { createInterface } from "node:readline";

export const url = process.argv[2];
export const file = process.argv[3];
export const timeoutMs = Number(process.env.BENCH_UPLOAD_TIMEOUT_MS ?? 600_000);
export const HYDRATED = "form.upload[data-hydrated='true']";

export const input = createInterface({ input: process.stdin });
const lines = input[Symbol.asyncIterator]();
/** One JSON event, on a line of its own. */
export const say = (event) => process.stdout.write(JSON.stringify(event) + "\n");
/** Waits for the caller's next line. */
export const nextLine = async () => (await lines.next()).value;
