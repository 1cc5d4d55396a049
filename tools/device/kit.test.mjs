// The device kit end to end on this machine: build it into a temporary folder (gzip, which is faster
// to write than the default xz; run.sh unpacks both the same way), then run its bundled bench:llm
// through run.sh on SwiftShader, as a lent GPU machine would run it on its NVIDIA ICD.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKit, ENTRIES, expectOnlyBaseLibs } from './kit.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** Hand count for the `tiny` synthetic preset (src/llm/synthetic-presets.ts), BF16: 2 layers of 64·64·2 + 32·64·2 + 3·128·64 = 36,864 values, untied head 256·64. */
const TINY_BF16_BYTES_PER_TOKEN = 2 * (2 * 36_864 + 256 * 64);

let dir;
let kit;
let manifest;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'device-kit-'));
  ({ out: kit, manifest } = await buildKit({ out: join(dir, 'kit'), compress: 'gzip' }));
});
afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

/** bash tools/device/run.sh with this kit, its own unpack folder and $OUT, on SwiftShader. */
function device(args, env = {}) {
  const vars = { ...process.env, DEVICE_KIT: kit, DEVICE_WORK: join(dir, 'work'), VK_ICD_FILENAMES: SWIFTSHADER, ...env };
  delete vars.VK_DRIVER_FILES; // the loader prefers it to VK_ICD_FILENAMES
  return spawnSync('bash', [join(ROOT, 'tools/device/run.sh'), ...args], { cwd: dir, encoding: 'utf8', env: vars, timeout: 120_000 });
}

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');
const filesUnder = (root, rel = '') =>
  readdirSync(join(root, rel), { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(root, join(rel, d.name)) : [join(rel, d.name)]));

describe('device kit', () => {
  it('holds Node, Dawn, the Vulkan loader and libglvnd compressed and the three bundles, under 64 MiB, as its manifest lists', () => {
    const paths = manifest.files.map((f) => f.path);
    for (const p of [
      'bin/node.gz',
      `node_modules/webgpu/dist/${process.platform}-${process.arch}/dawn.node.gz`,
      'node_modules/webgpu/index.js',
      'lib/libvulkan.so.1.gz',
      'lib/libGLdispatch.so.0.gz',
      'ort-wasm-simd-threaded.wasm.gz',
      ...Object.values(ENTRIES).map((e) => e.file),
    ])
      expect(paths).toContain(p);
    expect(filesUnder(kit).sort()).toEqual([...paths, 'kit.json'].sort());
    const onDisk = filesUnder(kit).reduce((s, p) => s + statSync(join(kit, p)).size, 0);
    expect(manifest.total_bytes).toBe(onDisk);
    expect(onDisk).toBeLessThan(64 * 2 ** 20);
    for (const f of manifest.files) expect(sha256(join(kit, f.path)), f.path).toBe(f.sha256);
    expect(manifest.node).toBe(process.version);
    expect(manifest.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('runs the bundled bench:llm on the tiny synthetic preset through run.sh: bytes per token from the shapes, JSON in $OUT', () => {
    const out = join(dir, 'out');
    const args = [
      '--synthetic',
      'tiny',
      '--decode-kernels',
      'legacy',
      '--no-legacy',
      '--rounds',
      '1',
      '--prompt-tokens',
      '4',
      '--decode-tokens',
      '3',
      '--json',
    ];
    const r = device(['llm', ...args], { OUT: out });
    expect(r.status, r.stderr).toBe(0);
    // One JSON document on stdout: no other bundled script's main ran beside the entry's.
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]);
    expect(readFileSync(join(out, 'llm.json'), 'utf8')).toBe(r.stdout);
    expect(readFileSync(join(out, 'llm.stderr.txt'), 'utf8')).toMatch(/filled on the GPU/);
    expect(JSON.parse(readFileSync(join(out, 'kit.json'), 'utf8')).commit).toBe(manifest.commit);
    expect(j.adapter).toMatch(/swiftshader/i);
    expect(j.model).toBe('synthetic tiny');
    expect(j.synthetic.dtype).toBe('BF16');
    expect(j.synthetic.expected_bytes_per_token).toBe(TINY_BF16_BYTES_PER_TOKEN);
    expect(j.bytes_per_token).toBe(j.synthetic.expected_bytes_per_token);
    expect(j.prompt_tokens).toBe(4);
    expect(j.decode_tokens).toBe(3);
    for (const v of [j.decode_tokens_per_s, j.prefill_tokens_per_s, j.copy_bandwidth_bytes_per_s, j.bandwidth_efficiency, j.synthetic.step_ms])
      expect(Number.isFinite(v) && v > 0, String(v)).toBe(true);
    expect(j.bandwidth_efficiency).toBeCloseTo((j.decode_tokens_per_s * j.bytes_per_token) / j.copy_bandwidth_bytes_per_s, 12);
    expect(j.legacy).toBeUndefined();
    expect(j.peer).toBeUndefined();
    // The kit's own Node ran it, unpacked bit for bit, and run.sh said which kit and which ICD.
    expect(sha256(join(dir, 'work/bin/node'))).toBe(sha256(process.execPath));
    expect(r.stderr).toContain(`[device] kit ${manifest.commit.slice(0, 12)}`);
    expect(r.stderr).toContain(`vulkan icd: ${SWIFTSHADER}`);
    expect(r.stderr).toMatch(/kit unpacked into .* in \d+ s/);
    // A second run in the same folder does not unpack again and keeps the first's output; a failing
    // command's status comes back through the tees, its message in the stderr file.
    const failed = device(['llm', '--synthetic', 'tiny', '--dtype', 'f8', '--json'], { OUT: out });
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toMatch(/kit already unpacked in /);
    expect(readFileSync(join(out, 'llm.json'), 'utf8')).toBe(r.stdout);
    expect(readFileSync(join(out, 'llm-2.stderr.txt'), 'utf8')).toMatch(/--dtype must be f16, bf16 or f32/);
    // DEVICE_TIMEOUT stops a run that would outlive the device command, keeping its output so far.
    const cut = device(['llm', ...args], { OUT: out, DEVICE_TIMEOUT: '1' });
    expect(cut.status).toBe(124);
    expect(cut.stderr).toMatch(/llm exited 124 after \d+ s; output in .*llm-3\.json/);
  });

  it('writes a test model with the bundled make-test-model; refuses unknown commands and a missing kit', () => {
    const model = join(dir, 'model');
    const r = device(['make-test-model', '--out', model, '--layers', '1', '--hidden', '64', '--heads', '4', '--kv-heads', '2', '--vocab', '300']);
    expect(r.status, r.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
    expect([config.num_hidden_layers, config.hidden_size, config.vocab_size]).toEqual([1, 64, 300]);
    expect(statSync(join(model, 'model.safetensors')).size).toBeGreaterThan(300 * 64 * 2);
    const bad = device(['make-test-model', '--out', join(dir, 'bad'), '--dtype', 'f8']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--dtype must be bf16, f16 or f32/);

    const unknown = device(['train']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/usage: bash tools\/device\/run.sh <llm\|sprint\|make-test-model>/);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const missing = device(['llm'], { DEVICE_KIT: empty });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no device kit .*npm run device:kit/);
  });

  it('takes only binaries that need nothing beyond libc and libstdc++', () => {
    expect(() => expectOnlyBaseLibs(process.execPath)).not.toThrow();
    // libGLX links libGLdispatch and libX11: a Node built like that would not start on the device.
    expect(() => expectOnlyBaseLibs('/usr/lib/x86_64-linux-gnu/libGLX.so.0')).toThrow(/links .*libGLdispatch\.so\.0.*bare device image/);
  });

  it('refuses to build a kit over the carry limit, leaving no folder behind', async () => {
    const out = join(dir, 'too-big');
    await expect(buildKit({ out, reuse: kit, compress: 'gzip', maxMib: 1 })).rejects.toThrow(/over the 1 MiB a device run carries/);
    expect(readdirSync(dir).filter((n) => n.startsWith('too-big'))).toEqual([]);
  });
});
