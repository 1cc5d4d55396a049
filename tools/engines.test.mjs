// package.json's engines.node must promise only what every installed package accepts (issue 11),
// and this machine's Node must be inside it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { afterEach, describe, expect, it } from 'vitest';
import { engineConflicts, installedEngines } from './engines.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const roots = [];

/** A fake project: package.json with `ours`, and installed packages name -> engines.node (nested by '/node_modules/'). */
function project(ours, installed) {
  const root = mkdtempSync(join(tmpdir(), 'engines-'));
  roots.push(root);
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'x', engines: { node: ours } }));
  for (const [path, node] of Object.entries(installed)) {
    const dir = join(root, 'node_modules', path);
    mkdirSync(dir, { recursive: true });
    const name = path.split('/node_modules/').at(-1);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', ...(node ? { engines: { node } } : {}) }));
  }
  return root;
}

afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe('engines.node', () => {
  it('is accepted by every package installed here, nested ones included', () => {
    const { ours, conflicts } = engineConflicts(repo);
    expect(conflicts.map((c) => `${c.name}@${c.version} needs node ${c.node}`)).toEqual([]);
    // The walk really saw the tree (hundreds of packages declare engines), including nested copies.
    const all = installedEngines(repo);
    expect(all.length).toBeGreaterThan(100);
    expect(all.some((p) => p.path.includes('/node_modules/', p.path.indexOf('node_modules') + 1))).toBe(true);
    expect(semver.validRange(ours)).not.toBeNull();
  });

  it('includes the Node that runs the tests', () => {
    const ours = engineConflicts(repo).ours;
    expect(semver.satisfies(process.version, ours), `${process.version} is outside engines.node ${ours}`).toBe(true);
  });

  it('catches a dependency that wants a newer Node, scoped and nested ones too', () => {
    const root = project('>=20.19', {
      'p-retry': '>=22',
      '@scope/pkg': '^20.19.0 || >=22.12.0',
      'outer/node_modules/nanoid': '^22 || ^24 || >=26',
      fine: '>=18',
      'no-engines': undefined,
    });
    expect(
      engineConflicts(root)
        .conflicts.map((c) => c.name)
        .sort(),
    ).toEqual(['@scope/pkg', 'nanoid', 'p-retry']);
    const narrowed = project('^20.19.0 || ^22.12.0 || >=24', { '@scope/pkg': '^20.19.0 || >=22.12.0', fine: '>=18', vitest: '^20.0.0 || ^22.0.0 || >=24.0.0' });
    expect(engineConflicts(narrowed).conflicts).toEqual([]);
  });
});
