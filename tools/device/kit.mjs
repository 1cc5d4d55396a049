#!/usr/bin/env node
// Builds the device kit: one git-ignored folder that a lent GPU machine (no Node, no npm, no
// network) can run the benchmarks from, via `bash tools/device/run.sh <llm|sprint|make-test-model>`.
// It holds this machine's Node binary and Dawn addon compressed, esbuild bundles of the bench
// entries (so no node_modules are needed), onnxruntime-web's wasm for the peers, and the Vulkan
// loader with the libglvnd libraries the NVIDIA ICD links against (a bare image has neither; the
// earlier hand-made bundles unpacked .deb files on the device for them).
//
// Usage: node tools/device/kit.mjs [--out DIR] [--compress xz|gzip] [--max-mib N]
//   (npm run device:kit). Prints the kit's contents and size; exit 1 when it exceeds --max-mib
//   (default 64: what one device run can carry).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LIB_DIR = '/usr/lib/x86_64-linux-gnu';
/** The Vulkan loader, and libglvnd: NVIDIA's Vulkan ICD lives in libGLX_nvidia.so.0, which needs these. */
const SYSTEM_LIBS = ['libvulkan.so.1', 'libGLdispatch.so.0', 'libGLX.so.0', 'libGL.so.1', 'libEGL.so.1', 'libOpenGL.so.0', 'libGLESv2.so.2'];
/** onnxruntime-web resolves its wasm next to the module that imports it: the bundles, once bundled. */
const ORT_FILES = ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

/** The kit's commands: run.sh's first argument → bundle. */
export const ENTRIES = {
  llm: { file: 'llm.mjs', entry: 'src/llm/bench.ts', npm: 'npm run bench:llm' },
  sprint: { file: 'sprint.mjs', entry: 'src/bench/bench.ts', npm: 'npm run bench' },
  'make-test-model': {
    file: 'make-test-model.mjs',
    // The CLI's command module alone: src/cli/main.ts would pull in libp2p and the node runtime.
    stdin: [
      "import { run } from './src/cli/make-test-model.ts';",
      'try {',
      '  process.exitCode = await run(process.argv.slice(2));',
      '} catch (e) {',
      '  process.stderr.write(`make-test-model: ${e instanceof Error ? e.message : String(e)}\\n`);',
      '  process.exitCode = 2;',
      '}',
    ].join('\n'),
    npm: 'sprintnet make-test-model',
  },
};

/** What any glibc Linux image has: the kit carries everything else a binary links against. */
const BASE_LIBS = /^(linux-vdso|libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|ld-linux-x86-64)\.so/;

/** A distribution's Node (libnode.so, libuv, ICU as shared libraries) would not start on a bare image. */
export function expectOnlyBaseLibs(path) {
  let listing;
  try {
    listing = execFileSync('ldd', [path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return; // static, or no ldd here: nothing to check
  }
  const extra = listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((lib) => lib && !BASE_LIBS.test(basename(lib)));
  if (extra.length > 0)
    throw new Error(`${path} links ${extra.join(', ')}, which a bare device image lacks: build the kit with a self-contained Node (nodejs.org's)`);
}

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');
const stampOf = (path) => {
  const s = statSync(path);
  return `${s.size}:${Math.round(s.mtimeMs)}`;
};
const hasXz = () => spawnSync('xz', ['--version'], { stdio: 'ignore' }).status === 0;

function compressFile(src, dest, method) {
  if (method === 'gzip') writeFileSync(dest, gzipSync(readFileSync(src), { level: 6 }));
  else execFileSync('sh', ['-c', 'xz -T0 -6 -c "$1" > "$2"', 'sh', src, dest]);
}

function git(args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/**
 * Builds the kit into `out` (replacing it) and returns its manifest. Compressed files of an earlier
 * kit (in `reuse`, default `out`) are reused when their source has not changed (Node alone takes a
 * minute to xz).
 * @param {{ out?: string, reuse?: string, compress?: 'xz' | 'gzip', maxMib?: number, log?: (line: string) => void }} [options]
 */
export async function buildKit(options = {}) {
  const out = resolve(options.out ?? join(ROOT, '.device'));
  const method = options.compress ?? (hasXz() ? 'xz' : 'gzip');
  if (method !== 'xz' && method !== 'gzip') throw new Error(`--compress must be xz or gzip, got ${method}`);
  if (method === 'xz' && !hasXz()) throw new Error('xz is not installed here: use --compress gzip');
  const maxBytes = (options.maxMib ?? 64) * 2 ** 20;
  const log = options.log ?? (() => {});
  const ext = method === 'xz' ? '.xz' : '.gz';
  const reuseDir = resolve(options.reuse ?? out);
  const previous = readManifest(reuseDir);
  const stage = `${out}.building-${process.pid}`;
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const files = [];
  const put = (rel, src, { compress = false } = {}) => {
    const name = compress ? rel + ext : rel;
    const dest = join(stage, name);
    mkdirSync(dirname(dest), { recursive: true });
    const stamp = src ? stampOf(src) : null;
    const old = previous?.files.find((f) => f.path === name && f.source === src && f.source_stamp === stamp);
    if (old && existsSync(join(reuseDir, name)) && sha256(join(reuseDir, name)) === old.sha256) {
      copyFileSync(join(reuseDir, name), dest);
      log(`reused ${name}`);
    } else if (compress) {
      log(`compressing ${src} (${method})…`);
      compressFile(src, dest, method);
    } else copyFileSync(src, dest);
    files.push({ path: name, bytes: statSync(dest).size, sha256: sha256(dest), source: src, source_stamp: stamp });
  };

  expectOnlyBaseLibs(process.execPath);
  put('bin/node', process.execPath, { compress: true });

  const webgpuDir = join(ROOT, 'node_modules/webgpu');
  const dawn = join(webgpuDir, 'dist', `${process.platform}-${process.arch}`, 'dawn.node');
  if (!existsSync(dawn)) throw new Error(`no Dawn addon at ${dawn}: run npm install`);
  expectOnlyBaseLibs(dawn);
  put('node_modules/webgpu/package.json', join(webgpuDir, 'package.json'));
  put('node_modules/webgpu/index.js', join(webgpuDir, 'index.js'));
  put(`node_modules/webgpu/dist/${process.platform}-${process.arch}/dawn.node`, dawn, { compress: true });

  for (const lib of SYSTEM_LIBS) {
    const src = join(LIB_DIR, lib);
    if (!existsSync(src)) throw new Error(`${src} is missing (apt-get install libvulkan1 libglvnd0 libgl1 libegl1 libopengl0 libgles2)`);
    // Real files under the soname: a carried folder may not keep symlinks.
    put(`lib/${lib}`, src, { compress: true });
  }
  for (const f of ORT_FILES) put(f, join(ROOT, 'node_modules/onnxruntime-web/dist', f), { compress: f.endsWith('.wasm') });

  const esbuild = await import('esbuild');
  for (const [name, e] of Object.entries(ENTRIES)) {
    const outfile = join(stage, e.file);
    await esbuild.build({
      ...(e.entry ? { entryPoints: [join(ROOT, e.entry)] } : { stdin: { contents: e.stdin, resolveDir: ROOT, sourcefile: `${name}-entry.ts`, loader: 'ts' } }),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      // The native addon stays a package (run.sh unpacks it under node_modules next to the bundles).
      external: ['webgpu'],
      // Bundled CommonJS dependencies call require(); ESM output has none of its own.
      banner: { js: "import { createRequire as __kitRequire } from 'node:module'; const require = __kitRequire(import.meta.url);" },
      plugins: [onlyEntryIsMain(e.entry ? join(ROOT, e.entry) : null)],
      logLevel: 'error',
    });
    files.push({ path: e.file, bytes: statSync(outfile).size, sha256: sha256(outfile), source: e.entry ?? `${name} (stdin entry)`, source_stamp: null });
  }

  const status = git(['status', '--porcelain', '--untracked-files=no', '--', 'src', 'package.json', 'package-lock.json']);
  const dirtyFiles =
    status === null
      ? null
      : status
          .split('\n')
          .filter(Boolean)
          .map((line) => line.replace(/^\s*\S+\s+/, ''));
  const manifest = {
    built: new Date().toISOString(),
    commit: git(['rev-parse', 'HEAD']),
    // Uncommitted changes under src/ went into the bundles too: the commit alone does not describe them.
    dirty: dirtyFiles === null ? null : dirtyFiles.length > 0,
    dirty_files: dirtyFiles,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    webgpu: JSON.parse(readFileSync(join(webgpuDir, 'package.json'), 'utf8')).version,
    compress: method,
    commands: Object.fromEntries(Object.entries(ENTRIES).map(([k, e]) => [k, { bundle: e.file, same_as: e.npm }])),
    files,
    total_bytes: files.reduce((s, f) => s + f.bytes, 0),
  };
  writeFileSync(join(stage, 'kit.json'), JSON.stringify(manifest, null, 2) + '\n');
  manifest.total_bytes += statSync(join(stage, 'kit.json')).size;
  if (manifest.total_bytes > maxBytes) {
    rmSync(stage, { recursive: true, force: true });
    throw new Error(`the kit would be ${(manifest.total_bytes / 2 ** 20).toFixed(1)} MiB, over the ${maxBytes / 2 ** 20} MiB a device run carries`);
  }
  rmSync(out, { recursive: true, force: true });
  renameSync(stage, out);
  return { out, manifest };
}

const MAIN_CHECK = /import\.meta\.url === `file:\/\/\$\{process\.argv\[1\]\}`/g;

/**
 * Scripts guard their command-line main with `import.meta.url === file://argv[1]`; in one bundle
 * every module shares the bundle's URL, so each imported script's main would run too (bench:llm's
 * bundle printed the sampler micro-benchmark's JSON before its own). Off in every module but the entry.
 * @param {string | null} entry
 */
function onlyEntryIsMain(entry) {
  return {
    name: 'only-entry-is-main',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (args.path === entry || !source.includes('process.argv[1]')) return undefined;
        const contents = source.replace(MAIN_CHECK, 'false');
        if (contents.includes('process.argv[1]'))
          throw new Error(`${relative(ROOT, args.path)} reads process.argv[1] in a form the kit cannot switch off: it would act as a main in the bundle`);
        return { contents, loader: 'ts' };
      });
    },
  };
}

/** @param {string} dir */
function readManifest(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, 'kit.json'), 'utf8'));
  } catch {
    return null;
  }
}

const mib = (n) => `${(n / 2 ** 20).toFixed(2)} MiB`;

async function main() {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, compress: { type: 'string' }, 'max-mib': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write('usage: npm run device:kit -- [--out DIR] [--compress xz|gzip] [--max-mib N]\n');
    return 0;
  }
  const maxMib = values['max-mib'] === undefined ? undefined : Number(values['max-mib']);
  if (maxMib !== undefined && !(maxMib > 0)) throw new Error(`--max-mib must be a positive number, got ${values['max-mib']}`);
  const t0 = performance.now();
  const { out, manifest } = await buildKit({ out: values.out, compress: values.compress, maxMib, log: (l) => process.stderr.write(`${l}\n`) });
  for (const f of manifest.files) process.stdout.write(`${mib(f.bytes).padStart(11)}  ${f.path}\n`);
  const rel = relative(process.cwd(), out) || '.';
  process.stdout.write(
    `${mib(manifest.total_bytes).padStart(11)}  total in ${rel} (${manifest.files.length + 1} files, ${manifest.compress}), built in ${((performance.now() - t0) / 1000).toFixed(1)} s\n` +
      `commit ${manifest.commit}${manifest.dirty ? ' + uncommitted changes' : ''}; Node ${manifest.node}, webgpu ${manifest.webgpu}\n` +
      `carry '${basename(out) === '.device' && dirname(out) === ROOT ? '.device' : rel}' and run on the device: bash tools/device/run.sh <${Object.keys(ENTRIES).join('|')}> [args...]\n`,
  );
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`device kit: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
