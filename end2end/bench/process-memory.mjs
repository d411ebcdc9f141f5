// A browser's processes' memory, read from /proc, for the download benches.
import { readFileSync } from "node:fs";

import { descendants } from "../proc.mjs";

/** The processes under `browserPid` (its children, theirs…) whose command
 * line (its arguments joined by spaces) `wanted` picks, each with its memory in bytes: resident (rss), and
 * private (USS: what is the process's own, not the code and fonts every
 * process shares). Another browser on the machine is not counted. */
export function processesUnder(browserPid, wanted) {
  const pids = descendants(browserPid);
  const found = [];
  for (const pid of pids) {
    try {
      // One string: a zygote's children rewrite theirs, arguments and all, as one.
      if (!wanted(readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim())) continue;
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      const field = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(rollup)?.[1] ?? 0) * 1024;
      found.push({ pid, rss: field("Rss"), private: field("Private_Clean") + field("Private_Dirty") });
    } catch {
      // A process that ended meanwhile.
    }
  }
  return found;
}
