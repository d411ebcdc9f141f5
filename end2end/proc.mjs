// The process tree, read from /proc: for closing a browser whose driver
// started it (webkit.mjs) and for the download benches' memory
// (bench/process-memory.mjs).
import { readdirSync, readFileSync } from "node:fs";

/** The processes under `pid` (its children, theirs…), now. */
export function descendants(pid) {
  const children = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The parent is the 4th field, after the command in parentheses.
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(name)]);
    } catch {
      // A process that ended meanwhile.
    }
  }
  const found = [];
  for (let queue = [pid]; queue.length > 0; ) {
    const next = children.get(queue.shift()) ?? [];
    found.push(...next);
    queue.push(...next);
  }
  return found;
}
