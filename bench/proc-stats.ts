/**
 * Memory and CPU of a process tree from Linux /proc: VmRSS (and RssFile) from `/proc/<pid>/status`, utime+stime
 * from `/proc/<pid>/stat`. The tree (the process and its descendants) covers servers that fork workers (Apache).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`; 100 on every Linux we run on). */
const CLK_TCK = 100;

/** Fields of /proc/<pid>/stat after the `(comm)` field, which may itself contain spaces and parentheses. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime+stime in clock ticks from the text of /proc/<pid>/stat. */
export function parseCpuTicks(stat: string): number {
  const f = statFields(stat);
  // After "(comm)": state(0) ppid(1) … utime(11) stime(12).
  return Number(f[11]) + Number(f[12]);
}

/** A `kB` field of /proc/<pid>/status in bytes; 0 when absent (a zombie). */
function statusBytes(status: string, field: 'VmRSS' | 'RssFile'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Resident memory, bytes, and the part of it that is file-backed. */
export interface Resident {
  readonly rss: number;
  /**
   * Pages mapped from files: the `node` binary's code and read-only data, shared libraries. They are the page
   * cache's, shared by every process that maps the same file, and the same whatever the process does with its
   * heap; the rest of RSS (anonymous memory) is the process's own.
   */
  readonly file: number;
}

/** VmRSS and RssFile in bytes from the text of /proc/<pid>/status; 0 each when absent (a zombie). */
export function parseResident(status: string): Resident {
  return { rss: statusBytes(status, 'VmRSS'), file: statusBytes(status, 'RssFile') };
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** `pid` and all its descendants that are alive now. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    if (stat === undefined) continue;
    const ppid = Number(statFields(stat)[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift() ?? pid;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * RSS and its file-backed part, summed over the tree (shared pages of forked workers are counted once per
 * process, as `ps` does).
 */
export function treeResident(pids: readonly number[]): Resident {
  return pids.reduce<Resident>(
    (sum, p) => {
      const r = parseResident(read(`/proc/${p}/status`) ?? '');
      return { rss: sum.rss + r.rss, file: sum.file + r.file };
    },
    { rss: 0, file: 0 },
  );
}

/** CPU seconds (user + system) the tree has used so far. */
export function treeCpuSeconds(pids: readonly number[]): number {
  return pids.reduce((sum, p) => {
    const stat = read(`/proc/${p}/stat`);
    return stat === undefined ? sum : sum + parseCpuTicks(stat) / CLK_TCK;
  }, 0);
}

/** What a process tree used while a measurement ran. */
export interface Usage {
  /** RSS before the load started, bytes. */
  readonly idleRss: number;
  /** Highest RSS sampled during the load, bytes. */
  readonly peakRss: number;
  /** CPU time over wall time: 1 = one core busy throughout. */
  readonly cpuCores: number;
}

/** Samples a process tree every `everyMs` until `stop()` is called. */
export function sampleUsage(pid: number, everyMs = 100): { stop(): Usage } {
  let pids = processTree(pid);
  const idleRss = treeResident(pids).rss;
  const cpu0 = treeCpuSeconds(pids);
  const t0 = process.hrtime.bigint();
  let peakRss = idleRss;
  let ticks = 0;
  const timer = setInterval(() => {
    // Apache may start workers under load: re-read the tree now and then.
    if (++ticks % 10 === 0) pids = processTree(pid);
    peakRss = Math.max(peakRss, treeResident(pids).rss);
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      pids = processTree(pid);
      peakRss = Math.max(peakRss, treeResident(pids).rss);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      return { idleRss, peakRss, cpuCores: wall > 0 ? (treeCpuSeconds(pids) - cpu0) / wall : 0 };
    },
  };
}
