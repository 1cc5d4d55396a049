#!/usr/bin/env node
// Does package.json's `engines.node` promise only Node versions that every installed package
// accepts? (issue 11: nanoid 6 and p-retry 8 wanted Node 22 while the field said >=20.19). Walks
// node_modules, nested node_modules included, and compares ranges with semver.subset.
//
// Usage: node tools/engines.mjs [root]   (exit 1 and a list of packages when the field promises too much)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

/**
 * Every installed package under `root`/node_modules that declares engines.node.
 * @param {string} root
 * @returns {Array<{ name: string, version: string, path: string, node: string }>}
 */
export function installedEngines(root) {
  const found = [];
  const visit = (modules) => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      const dir = join(modules, entry);
      if (entry.startsWith('@')) {
        visit(dir);
        continue;
      }
      const manifest = join(dir, 'package.json');
      if (existsSync(manifest)) {
        const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
        const node = pkg.engines?.node;
        if (typeof node === 'string') found.push({ name: pkg.name ?? entry, version: pkg.version ?? '?', path: dir, node });
      }
      visit(join(dir, 'node_modules'));
    }
  };
  visit(join(root, 'node_modules'));
  return found;
}

/**
 * The installed packages that refuse some Node version our engines field accepts.
 * @param {string} root
 * @returns {{ ours: string, conflicts: Array<{ name: string, version: string, node: string, path: string }> }}
 */
export function engineConflicts(root) {
  const ours = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines?.node;
  if (typeof ours !== 'string' || !semver.validRange(ours)) throw new Error(`package.json has no valid engines.node (got ${JSON.stringify(ours)})`);
  const conflicts = installedEngines(root).filter((p) => !semver.validRange(p.node) || !semver.subset(ours, p.node));
  return { ours, conflicts };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const { ours, conflicts } = engineConflicts(root);
  for (const c of conflicts) process.stdout.write(`${c.name}@${c.version} needs node ${c.node} (${c.path})\n`);
  process.stdout.write(`engines.node ${ours}: ${conflicts.length} installed package(s) refuse part of it\n`);
  process.exitCode = conflicts.length ? 1 : 0;
}
