/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) three ways: functions by self time (where the CPU
 * actually was), self time by package (which dependency or vestibule file costs what), and vestibule's own
 * functions by inclusive time (what a request path costs with everything it calls).
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

/** The parts of the .cpuprofile JSON this reads. */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  /** Microseconds between consecutive samples. */
  readonly timeDeltas: readonly number[];
}

export interface HotEntry {
  readonly name: string;
  readonly ms: number;
  /** Share of all sampled time, 0–100. */
  readonly pct: number;
}

/** The profile read three ways. */
export interface ProfileSummary {
  readonly totalMs: number;
  readonly bySelf: HotEntry[];
  readonly byPackage: HotEntry[];
  /** Functions in vestibule's src/ (or its build), time including their callees. */
  readonly ownInclusive: HotEntry[];
}

const OWN = /\/(src|build\/src)\//;

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) return url.slice(nm + 'node_modules/'.length);
  const own = OWN.exec(url);
  return own ? `src/${url.slice(own.index + own[0].length)}` : url;
}

function label(f: CallFrame): string {
  const name = f.functionName === '' ? '(anonymous)' : f.functionName;
  return f.url === '' ? name : `${name} (${shortUrl(f.url)}:${f.lineNumber + 1})`;
}

/** `undici`, `@fastify/reply-from`, `node:internal`, `src/session/sessions.js`, or a native frame's name. */
export function packageOf(f: CallFrame): string {
  const nm = f.url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const parts = f.url.slice(nm + 'node_modules/'.length).split('/');
    return (parts[0]?.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
  }
  if (OWN.test(f.url)) return shortUrl(f.url);
  if (f.url.startsWith('node:')) return 'node (internal)';
  return f.url === '' ? f.functionName || '(native)' : f.url;
}

function top(totals: Map<string, number>, allUs: number, n: number): HotEntry[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, pct: allUs > 0 ? (100 * us) / allUs : 0 }));
}

export function summarizeProfile(profile: CpuProfile, n = 20): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const self = new Map<string, number>();
  const pkg = new Map<string, number>();
  const own = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, us: number): void => void m.set(k, (m.get(k) ?? 0) + us);
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    total += dt;
    add(self, label(node.callFrame), dt);
    add(pkg, packageOf(node.callFrame), dt);
    // Inclusive: every distinct own function on the stack gets the sample once (recursion counted once).
    const seen = new Set<string>();
    for (let at: ProfileNode | undefined = node; at; at = byId.get(parent.get(at.id) ?? -1)) {
      if (!OWN.test(at.callFrame.url)) continue;
      const k = label(at.callFrame);
      if (!seen.has(k)) add(own, k, dt);
      seen.add(k);
    }
  });
  return {
    totalMs: total / 1000,
    bySelf: top(self, total, n),
    byPackage: top(pkg, total, n),
    ownInclusive: top(own, total, n),
  };
}

function lines(entries: readonly HotEntry[]): string {
  return entries
    .map((e) => `  ${e.pct.toFixed(1).padStart(5)} %  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`)
    .join('\n');
}

/** The summary as text: three ranked lists. */
export function formatProfile(s: ProfileSummary): string {
  return [
    `Self time by function (of ${s.totalMs.toFixed(0)} ms sampled):\n${lines(s.bySelf)}`,
    `Self time by package or vestibule file:\n${lines(s.byPackage)}`,
    "vestibule's own functions, time including callees (a hook that calls done() synchronously also counts " +
      `what runs after it):\n${lines(s.ownInclusive)}`,
  ].join('\n\n');
}
