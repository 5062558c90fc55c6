// The import rules of src/ (docs/architecture.md, "Import rules") bite: probe files that break them are
// reported by eslint with the layer and cycle rules, and a probe that follows them is not.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

const tag = `__layer_probe_${String(process.pid)}`;

// path -> source. Each probe is valid TypeScript so that only the import rules can complain.
const probes: Record<string, string> = {
  // A leaf (row 0a) importing upwards.
  [`src/errors/${tag}.ts`]: `import type { SessionStore } from '../session/store.js';\nexport type Probe = SessionStore;\n`,
  // Sideways in row 3: the HTTP adapters are independent of each other.
  [`src/routes/${tag}.ts`]: `import { isHopByHop } from '../proxy/hop-by-hop.js';\nexport const probe = isHopByHop;\n`,
  // Sideways in row 0b: config and observability do not know each other.
  [`src/config/${tag}.ts`]: `import { REDACT_PATHS } from '../observability/logger.js';\nexport const probe = REDACT_PATHS;\n`,
  // Downwards is allowed: session (row 1b) may use oidc (row 1a).
  [`src/session/${tag}.ts`]: `import type { TokenResult } from '../oidc/provider.js';\nexport type Probe = TokenResult;\n`,
  // Two files that import each other.
  [`src/paths/${tag}_a.ts`]: `import { b } from './${tag}_b.js';\nexport const a = (n: number): number => (n > 0 ? b(n - 1) : 0);\n`,
  [`src/paths/${tag}_b.ts`]: `import { a } from './${tag}_a.js';\nexport const b = (n: number): number => a(n) + 1;\n`,
};

describe('import rules of src/ are enforced by eslint', () => {
  it('reports upward, sideways and cyclic imports, and lets a downward import pass', async () => {
    try {
      for (const [path, source] of Object.entries(probes)) writeFileSync(path, source);
      // Only the import rules run; type-checked rules would need the whole program and say nothing here.
      const eslint = new ESLint({
        ruleFilter: ({ ruleId }) => ruleId.startsWith('import-x/'),
        overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
      });
      const results = await eslint.lintFiles(Object.keys(probes));
      const found: Record<string, string[]> = {};
      for (const r of results) {
        const path = r.filePath.slice(r.filePath.indexOf('src/'));
        found[path] = r.messages.map((m) => m.ruleId ?? `fatal: ${m.message}`).sort();
      }
      assert.deepEqual(found, {
        [`src/errors/${tag}.ts`]: ['import-x/no-restricted-paths'],
        [`src/routes/${tag}.ts`]: ['import-x/no-restricted-paths'],
        [`src/config/${tag}.ts`]: ['import-x/no-restricted-paths'],
        [`src/session/${tag}.ts`]: [],
        [`src/paths/${tag}_a.ts`]: ['import-x/no-cycle'],
        [`src/paths/${tag}_b.ts`]: ['import-x/no-cycle'],
      });
    } finally {
      for (const path of Object.keys(probes)) rmSync(path, { force: true });
    }
  });
});
