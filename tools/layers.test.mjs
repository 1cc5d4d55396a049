// Proves that tools/layers.mjs (run by `npm run lint`) passes on src/ and fails on each kind of violation.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLayers } from './layers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const roots = [];

/** Writes `files` (path under the root -> source) into a fresh temporary root. */
function fixture(files) {
  const root = mkdtempSync(join(tmpdir(), 'layers-'));
  roots.push(root);
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), source);
  }
  return root;
}

afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe('layering check', () => {
  it('passes on the real src/', () => {
    const { files, problems } = checkLayers(join(here, '..'));
    expect(files).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });

  it('accepts imports of the same or lower floors', () => {
    const root = fixture({
      'src/sprint/a.ts': 'export const a = 1;\n',
      'src/gpu/b.ts': "import { a } from '../sprint/a.ts';\nexport const b = a;\n",
      'src/app/c.ts': "export * from '../gpu/b.ts';\n",
      'src/ui/d.tsx': "import { b } from '../app/c.ts';\nexport const D = () => <div>{b}</div>;\n",
    });
    expect(checkLayers(root).problems).toEqual([]);
  });

  it('fails on an upward import, in every syntax that loads a module', () => {
    const root = fixture({
      'src/app/top.ts': 'export const top = 1;\nexport type Top = number;\n',
      'src/sprint/static.ts': "import { top } from '../app/top.ts';\nexport const x = top;\n",
      'src/codec/type-only.ts': "import type { Top } from '../app/top.ts';\nexport type X = Top;\n",
      'src/wallet/reexport.ts': "export { top } from '../app/top.ts';\n",
      'src/node/dynamic.ts': "export const load = () => import('../app/top.ts');\n",
      'src/gpu/worker-url.ts': "export const u = new URL('../app/top.ts', import.meta.url);\n",
      'src/protocol/no-ext.ts': "import { top } from '../app/top';\nexport const y = top;\n",
    });
    const { problems } = checkLayers(root);
    expect(problems).toHaveLength(6);
    expect(problems).toContain('floor-1-imports-floor-5: src/sprint/static.ts -> src/app/top.ts (src/sprint may import only floors 1..1)');
    for (const f of ['codec/type-only', 'wallet/reexport', 'node/dynamic', 'gpu/worker-url', 'protocol/no-ext']) {
      expect(problems.some((p) => p.includes(`src/${f}.ts -> src/app/top.ts`))).toBe(true);
    }
  });

  it('places split beside protocol: each may import the other, neither the app', () => {
    const root = fixture({
      'src/protocol/credit.ts': "import { proof } from '../split/proof.ts';\nexport const credit = proof;\n",
      'src/split/proof.ts': 'export const proof = 1;\n',
      'src/split/uses-app.ts': "import { app } from '../app/app.ts';\nexport const x = app;\n",
      'src/app/app.ts': 'export const app = 1;\n',
    });
    expect(checkLayers(root).problems).toEqual(['floor-4-imports-floor-5: src/split/uses-app.ts -> src/app/app.ts (src/split may import only floors 1..4)']);
  });

  it('fails when floor-6 folders import each other, except from tests', () => {
    const root = fixture({
      'src/cli/cmd.ts': 'export const cmd = 1;\n',
      'src/ui/panel.tsx': "import { cmd } from '../cli/cmd.ts';\nexport const P = () => <b>{cmd}</b>;\n",
      'src/ui/panel.test.ts': "import { cmd } from '../cli/cmd.ts';\nexport const t = cmd;\n",
    });
    expect(checkLayers(root).problems).toEqual(['floor-6-sideways: src/ui/panel.tsx -> src/cli/cmd.ts (src/ui and src/cli must not import each other)']);
  });

  it('fails on a folder without a floor', () => {
    const root = fixture({ 'src/misc/z.ts': 'export const z = 1;\n' });
    expect(checkLayers(root).problems[0]).toMatch(/^unknown-folder: src\/misc\/z\.ts/);
  });

  it('fails on a runtime import cycle but not on a type-only one', () => {
    const root = fixture({
      'src/codec/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
      'src/codec/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
      'src/sprint/c.ts': "import type { D } from './d.ts';\nexport type C = D | 1;\n",
      'src/sprint/d.ts': "import type { C } from './c.ts';\nexport type D = C | 2;\n",
    });
    expect(checkLayers(root).problems).toEqual(['cycle: src/codec/a.ts -> src/codec/b.ts -> src/codec/a.ts']);
  });

  it('exits 1 from the command line on a violation', () => {
    const root = fixture({
      'src/sprint/a.ts': "import '../ui/b.ts';\n",
      'src/ui/b.ts': 'export {};\n',
    });
    const r = spawnSync(process.execPath, [join(here, 'layers.mjs'), root], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('floor-1-imports-floor-6: src/sprint/a.ts -> src/ui/b.ts');
  });
});
