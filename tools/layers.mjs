#!/usr/bin/env node
// Layering check for src/ (issue 10, "Architecture first"; /work/shared/architecture.md, "Floors").
//
// Each floor may import only the same or lower floors:
//   1: sprint, codec   2: gpu, wallet, cpu   3: llm, node   4: protocol, split   5: app
//   6: ui, cli, bench, audit, fuzz, interop — these know nothing of each other (tests are exempt)
// Every folder under src/ must have a floor, and there must be no import cycles.
//
// Edges: import / export … from, import type, import('…'), import('…').T in types, require('…'),
// and new URL('./x.ts', import.meta.url) (Worker entries). All of them count for layering; cycles are
// runtime cycles, so type-only imports (erased by the compiler) and Worker URLs do not count there.
// Files are parsed with swc (TypeScript 7 has no JavaScript API for eslint or dependency-cruiser).
//
// Usage: node tools/layers.mjs [root]    (exit 1 on any finding)
import { parseSync } from '@swc/core';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FLOORS = [
  ['sprint', 'codec'],
  ['gpu', 'wallet', 'cpu'],
  ['llm', 'node'],
  // split (private split inference) sits beside protocol: it runs on llm, node and wallet, and the
  // ledger will credit its proofs; split imports nothing from protocol, so that hook adds no cycle.
  ['protocol', 'split'],
  ['app'],
  ['ui', 'cli', 'bench', 'audit', 'fuzz', 'interop'],
];

/**
 * Known violations that are allowed for now, each with the reason. Keys are "from -> to" (paths
 * relative to the root). Keep this empty; an entry here is a debt, not a design.
 * @type {Record<string, string>}
 */
export const EXCEPTIONS = {
  // `sprintnet audit` is the command-line front of the attack suite: bin/sprintnet has one dispatcher
  // (src/cli/main.ts), so the command has to reach src/audit from src/cli. Moving the command file into
  // src/audit would only move the edge to cli/main.ts. Revisit if floor 6 gets a shared command registry.
  'src/cli/audit.ts -> src/audit/audit.ts': 'cli command entry for the audit',
};

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_EXT = new Set(['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs']);
const TOP = FLOORS.length;

/** floor number (1-based) of a folder name, or 0 when it has none */
function floorOf(folder) {
  const i = FLOORS.findIndex((f) => f.includes(folder));
  return i + 1;
}

function listSources(dir) {
  /** @type {string[]} */
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'node_modules') out.push(...listSources(p));
    } else if (SOURCE_EXT.has(extname(name))) {
      out.push(p);
    }
  }
  return out;
}

const isTest = (file) => /\.test\.[cm]?tsx?$/.test(file);

/** Collects module specifiers from an swc AST: [specifier, kind], kind 'import' | 'type' (erased) | 'url'. */
function collectSpecifiers(node, out) {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) collectSpecifiers(n, out);
    return;
  }
  switch (node.type) {
    case 'ImportDeclaration':
    case 'ExportAllDeclaration':
    case 'ExportNamedDeclaration': {
      if (node.source?.type !== 'StringLiteral') break;
      const specs = node.specifiers ?? [];
      const typeOnly = node.typeOnly || (specs.length > 0 && specs.every((s) => s.isTypeOnly));
      out.push([node.source.value, typeOnly ? 'type' : 'import']);
      break;
    }
    case 'TsImportType':
      if (node.argument?.type === 'StringLiteral') out.push([node.argument.value, 'type']);
      break;
    case 'TsExternalModuleReference': // import x = require('…')
      if (node.expression?.type === 'StringLiteral') out.push([node.expression.value, 'import']);
      break;
    case 'CallExpression': {
      const arg = node.arguments?.[0]?.expression;
      const isImport = node.callee?.type === 'Import';
      const isRequire = node.callee?.type === 'Identifier' && node.callee.value === 'require';
      if ((isImport || isRequire) && arg?.type === 'StringLiteral') out.push([arg.value, 'import']);
      break;
    }
    case 'NewExpression': {
      const arg = node.arguments?.[0]?.expression;
      const base = node.arguments?.[1]?.expression;
      if (
        node.callee?.type === 'Identifier' &&
        node.callee.value === 'URL' &&
        arg?.type === 'StringLiteral' &&
        base?.type === 'MemberExpression' &&
        base.object?.type === 'MetaProperty'
      ) {
        out.push([arg.value, 'url']);
      }
      break;
    }
  }
  for (const key in node) {
    if (key !== 'span') collectSpecifiers(node[key], out);
  }
}

function resolveRelative(fromFile, spec) {
  const base = resolve(dirname(fromFile), spec.replace(/[?#].*$/, ''));
  for (const cand of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')]) {
    if (existsSync(cand) && statSync(cand).isFile()) return cand;
  }
  return base; // unresolved: still placed by its path (tsc reports the missing file)
}

/**
 * Checks the layering of `<root>/src`.
 * @param {string} root
 * @returns {{ files: number, edges: number, problems: string[] }}
 */
export function checkLayers(root) {
  root = resolve(root);
  const src = join(root, 'src');
  const files = listSources(src);
  const rel = (p) => relative(root, p).split(sep).join('/');
  const folderOf = (p) => {
    const r = relative(src, p).split(sep);
    return r.length > 1 && !r[0].startsWith('..') ? r[0] : null;
  };
  /** @type {string[]} */
  const problems = [];
  /** @type {Map<string, string[]>} */
  const graph = new Map();
  let edges = 0;
  const seenUnknown = new Set();
  const usedExceptions = new Set();

  for (const file of files) {
    const from = folderOf(file);
    const fromFloor = from ? floorOf(from) : 0;
    if (fromFloor === 0 && !seenUnknown.has(from)) {
      seenUnknown.add(from);
      problems.push(`unknown-folder: ${rel(file)} is in src/${from ?? ''} which has no floor in tools/layers.mjs`);
    }
    const source = readFileSync(file, 'utf8');
    let ast;
    try {
      ast = parseSync(source, { syntax: 'typescript', tsx: file.endsWith('x'), decorators: true, target: 'es2022' });
    } catch (e) {
      problems.push(`parse-error: ${rel(file)}: ${String(e).split('\n')[0]}`);
      continue;
    }
    /** @type {[string, string][]} */
    const specs = [];
    collectSpecifiers(ast.body, specs);
    const deps = [];
    for (const [spec, kind] of specs) {
      if (!spec.startsWith('.')) continue; // packages and node: builtins
      const target = resolveRelative(file, spec);
      edges++;
      if (kind === 'import' && SOURCE_EXT.has(extname(target))) deps.push(target);
      const to = folderOf(target);
      if (to === null || to === from) continue;
      const toFloor = floorOf(to);
      const where = `${rel(file)} -> ${rel(target)}`;
      if (EXCEPTIONS[where]) {
        usedExceptions.add(where);
        continue;
      }
      if (toFloor === 0) {
        problems.push(`unknown-folder: ${where} (src/${to} has no floor in tools/layers.mjs)`);
      } else if (fromFloor !== 0 && toFloor > fromFloor) {
        problems.push(`floor-${fromFloor}-imports-floor-${toFloor}: ${where} (src/${from} may import only floors 1..${fromFloor})`);
      } else if (fromFloor === TOP && toFloor === TOP && !isTest(file)) {
        problems.push(`floor-${TOP}-sideways: ${where} (src/${from} and src/${to} must not import each other)`);
      }
    }
    graph.set(file, deps);
  }

  if (root === REPO_ROOT) {
    for (const where of Object.keys(EXCEPTIONS)) {
      if (!usedExceptions.has(where)) problems.push(`stale-exception: ${where} no longer occurs; remove it from EXCEPTIONS`);
    }
  }
  for (const cycle of findCycles(graph)) {
    problems.push(`cycle: ${[...cycle, cycle[0]].map(rel).join(' -> ')}`);
  }
  return { files: files.length, edges, problems };
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function findCycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const cycles = [];
  const strong = (v) => {
    // iterative to stay clear of the call-stack limit on long chains
    const work = [[v, 0]];
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const [node, i] = top;
      const deps = graph.get(node) ?? [];
      if (i < deps.length) {
        top[1]++;
        const w = deps[i];
        if (!graph.has(w)) continue;
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index++);
          stack.push(w);
          onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) {
          low.set(node, Math.min(low.get(node), idx.get(w)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(node)));
      }
      if (low.get(node) === idx.get(node)) {
        const comp = [];
        let w;
        do {
          w = stack.pop();
          onStack.delete(w);
          comp.push(w);
        } while (w !== node);
        if (comp.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(comp.reverse());
      }
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return cycles;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? REPO_ROOT);
  const t0 = performance.now();
  const { files, edges, problems } = checkLayers(root);
  const ms = Math.round(performance.now() - t0);
  for (const p of problems) console.error(p);
  console.log(`layers: ${files} files, ${edges} relative imports, ${problems.length} problem(s), ${ms} ms`);
  process.exit(problems.length > 0 ? 1 : 0);
}
