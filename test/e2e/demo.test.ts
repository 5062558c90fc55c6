/**
 * `npm run demo` as a user runs it: a real process tree (demo script → vestibule child), a login that redirects
 * to the mock Entra ID it started, and a clean stop on SIGTERM that leaves no process and no port behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NAVIGATION, TestClient } from '../support/http-client.js';
import { login } from '../support/mock-login.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEMO = ['--import', 'tsx', 'scripts/demo.ts'];

function demoEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (extra.DEMO_EXIT_AFTER_READY === undefined) delete env.DEMO_EXIT_AFTER_READY;
  return env;
}

/** Linux process table: pid → parent pid. */
function parentPids(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after "(comm)": state ppid …; comm itself may contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(Number(name), ppid);
    } catch {
      // The process ended while the table was read.
    }
  }
  return out;
}

function descendants(pid: number): number[] {
  const table = parentPids();
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [child, ppid] of table) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Running, not merely a zombie: a reparented zombie only waits for an init that may never reap it. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * The processes of `pids` still running once they had a chance to end: helpers such as tsx's esbuild service
 * exit when their parent's pipe closes, a moment after the parent itself.
 */
async function survivors(pids: readonly number[]): Promise<string[]> {
  for (let i = 0; i < 50 && pids.some(isRunning); i++) await new Promise((r) => setTimeout(r, 100));
  return pids.filter(isRunning).map((pid) => `${pid} ${commandLine(pid)}`);
}

/** Collects stdout and resolves with it once `pattern` matched (rejects when the process exits first). */
function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<{ match: RegExpExecArray; output: string }> {
  return new Promise((resolve, reject) => {
    let output = '';
    let errors = '';
    child.stderr?.on('data', (d: Buffer) => (errors += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
      const match = pattern.exec(output);
      if (match) resolve({ match, output });
    });
    child.once('exit', (code) => {
      reject(new Error(`demo exited (${String(code)}) before ${String(pattern)}:\n${output}\n${errors}`));
    });
  });
}

// The three demo runs are independent processes on free ports: run them side by side.
describe('npm run demo', { timeout: 30_000, concurrency: true }, () => {
  const started: ChildProcess[] = [];
  after(() => {
    // Only if a test failed half-way: its own child, by handle.
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('--help prints the usage and exits 0', () => {
    const r = spawnSync(process.execPath, [...DEMO, '--help'], { cwd: ROOT, env: demoEnv(), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: npm run demo/);
    assert.match(r.stdout, /--port N/);
  });

  it('starts everything, sends /oauth2/login to the mock Entra ID, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [...DEMO, '--port', '0'], { cwd: ROOT, env: demoEnv() });
    started.push(child);
    const { match, output } = await waitForOutput(child, /^Ready: open (http:\/\/localhost:\d+\/) /m);
    const url = match[1]!;
    const issuer = /Mock Entra ID: +(http:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]{36}\/v2\.0)$/m.exec(output)?.[1];
    assert.ok(issuer, `the banner names the mock issuer:\n${output}`);
    assert.match(output, /Nordmann, Kari +Z990001/);

    const client = new TestClient();
    const home = await client.get(url, NAVIGATION);
    assert.equal(home.status, 200);
    assert.match(home.body, /Not logged in/);

    const login = await client.get(`${url}oauth2/login`, NAVIGATION);
    assert.equal(login.status, 302);
    const authorize = new URL(login.location!);
    assert.equal(`${authorize.origin}${authorize.pathname}`, `${issuer.replace(/\/v2\.0$/, '')}/oauth2/v2.0/authorize`);
    assert.equal(authorize.searchParams.get('redirect_uri'), `${url}oauth2/callback`);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    const page = await client.get(authorize, NAVIGATION);
    assert.equal(page.status, 200);
    assert.match(page.body, /Nordmann, Kari/);

    const tree = descendants(child.pid!);
    const vestibule = tree.filter((pid) => commandLine(pid).includes('src/main.ts'));
    assert.equal(vestibule.length, 1, `vestibule runs as one child process: ${tree.map(commandLine).join(' | ')}`);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, string | null];
    assert.equal(signal, null);
    assert.equal(code, 0);
    // The demo waits for vestibule before it exits, so that one is gone right away.
    assert.equal(isRunning(vestibule[0]!), false, 'vestibule ended with the demo');
    assert.deepEqual(await survivors(tree), []);
    await assert.rejects(client.get(url), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
  });

  it('the banner names the metrics and token API addresses; after logout the page says so; the sign-in page labels its parameters', async () => {
    const child = spawn(process.execPath, [...DEMO, '--port', '0'], { cwd: ROOT, env: demoEnv() });
    started.push(child);
    try {
      const { match, output } = await waitForOutput(child, /^Ready: open (http:\/\/localhost:\d+)\/ /m);
      const ingress = match[1]!;
      const metrics = /Metrics \(admin listener\): +(http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(output)?.[1];
      const tokenApi = /Token API \(loopback only\): +(http:\/\/127\.0\.0\.1:\d+) /.exec(output)?.[1];
      assert.ok(metrics && tokenApi, `the banner names both addresses:\n${output}`);
      const client = new TestClient();
      const scraped = await client.get(metrics);
      assert.equal(scraped.status, 200);
      assert.match(scraped.body, /^# HELP /m);
      const token = await client.request(`${tokenApi}/api/v1/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(token.status, 400, 'the token API answers there (a request without target is refused)');

      const first = await client.get(`${ingress}/`, NAVIGATION);
      assert.match(first.body, /id="status">Not logged in</);
      assert.doesNotMatch(first.body, /logged out/);

      const { callback, authorizeUrl } = await login({ ingress }, client, { username: 'kari' });
      assert.equal(callback.status, 302, callback.body);
      const signIn = await client.get(authorizeUrl, NAVIGATION);
      const params =
        /<p class="params" id="params-label">([^<]+)<\/p>\s*<dl aria-labelledby="params-label">(.*?)<\/dl>/s.exec(
          signIn.body,
        );
      assert.ok(params, `the parameter list has a label:\n${signIn.body}`);
      assert.match(params[2]!, /<dt>response_mode<\/dt>/);

      const home = await client.get(`${ingress}/`, NAVIGATION);
      assert.match(home.body, /Logged in as/);
      const logoutHref = /<a href="([^"]*\/oauth2\/logout[^"]*)">Log out<\/a>/.exec(home.body)?.[1];
      assert.ok(logoutHref, home.body);
      let next = new URL(logoutHref.replaceAll('&amp;', '&'), `${ingress}/`);
      let page = await client.get(next, NAVIGATION);
      for (let hops = 0; page.status === 302 && hops < 6; hops++) {
        next = new URL(page.location!, next);
        page = await client.get(next, NAVIGATION);
      }
      assert.equal(page.status, 200, page.body);
      assert.equal(next.origin, ingress, `back on the app after logout: ${next.href}`);
      assert.match(page.body, /id="status">You are logged out here and at Entra ID</);
      const again = await client.get(`${ingress}/`, NAVIGATION);
      assert.match(again.body, /id="status">Not logged in</, 'a later visit is a plain visit again');
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('with DEMO_EXIT_AFTER_READY=1 prints the ready line and exits 0 by itself', async () => {
    const child = spawn(process.execPath, [...DEMO, '--port', '0'], {
      cwd: ROOT,
      env: demoEnv({ DEMO_EXIT_AFTER_READY: '1' }),
    });
    started.push(child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, output);
    assert.match(output, /^Ready: open http:\/\/localhost:\d+\/ in your browser$/m);
    assert.match(output, /^Demo stopped\.$/m);
  });
});
