// A browser's processes' memory, read from /proc, for the download benches.
import { readdirSync, readFileSync } from "node:fs";

/** The processes under `browserPid` (its children, theirs…) whose command
 * line (its arguments joined by spaces) `wanted` picks, each with its memory in bytes: resident (rss), and
 * private (USS: what is the process's own, not the code and fonts every
 * process shares). Another browser on the machine is not counted. */
export function processesUnder(browserPid, wanted) {
  const parents = new Map();
  const pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  for (const pid of pids) {
    try {
      // The parent is the 4th field, after the command in parentheses.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      parents.set(Number(pid), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // A process that ended meanwhile.
    }
  }
  const under = (pid) => {
    for (let at = pid, hops = 0; at > 1 && hops < 64; at = parents.get(at) ?? 0, hops++) {
      if (at === browserPid) return true;
    }
    return false;
  };
  const found = [];
  for (const pid of pids) {
    try {
      if (!under(Number(pid))) continue;
      // One string: a zygote's children rewrite theirs, arguments and all, as one.
      if (!wanted(readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim())) continue;
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      const field = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(rollup)?.[1] ?? 0) * 1024;
      found.push({ pid: Number(pid), rss: field("Rss"), private: field("Private_Clean") + field("Private_Dirty") });
    } catch {
      // A process that ended meanwhile.
    }
  }
  return found;
}
