// Proves that tools/preflight.mjs (the first step of `npm test`) stops with the one install command
// when chromium or libvulkan1 is missing, on fake machines built in temporary directories.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { preflight } from './preflight.mjs';

const script = join(dirname(fileURLToPath(import.meta.url)), 'preflight.mjs');
const roots = [];

const CHROMIUM = ['/usr/bin/chromium', '/usr/lib/chromium/vk_swiftshader_icd.json'];
const VULKAN = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1'];
const APT = ['/usr/bin/apt-get'];
const APT_LISTS = ['/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4'];

/** A fake machine: a temporary root holding empty files at `paths`. */
function machine(paths, overrides = {}) {
  const root = mkdtempSync(join(tmpdir(), 'preflight-'));
  roots.push(root);
  for (const p of paths) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), '');
  }
  return { root, path: '/usr/local/bin:/usr/bin:/bin', uid: 1000, platform: 'linux', ...overrides };
}

afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe('npm test preflight', () => {
  it('passes when chromium (with its SwiftShader driver) and libvulkan1 are installed', () => {
    expect(preflight(machine([...CHROMIUM, ...VULKAN, ...APT]))).toEqual({ ok: true });
    // The loader in the arm64 directory counts too.
    expect(preflight(machine([...CHROMIUM, '/usr/lib/aarch64-linux-gnu/libvulkan.so.1']))).toEqual({ ok: true });
  });

  it('names the one missing package in a single install command', () => {
    const noVulkan = preflight(machine([...CHROMIUM, ...APT, ...APT_LISTS]));
    expect(noVulkan).toMatchObject({ ok: false, missing: ['libvulkan1'], command: 'sudo apt-get install -y libvulkan1' });
    const noChromium = preflight(machine([...VULKAN, ...APT, ...APT_LISTS]));
    expect(noChromium).toMatchObject({ ok: false, missing: ['chromium'], command: 'sudo apt-get install -y chromium' });
    // A chromium without the SwiftShader driver gives no WebGPU on a machine without a GPU.
    const noSwiftShader = preflight(machine(['/usr/bin/chromium', ...VULKAN, ...APT, ...APT_LISTS]));
    expect(noSwiftShader).toMatchObject({ missing: ['chromium'] });
  });

  it('on a fresh machine: both packages, apt-get update first when the package lists are empty, no sudo for root', () => {
    const fresh = preflight(machine(APT, { uid: 0 }));
    expect(fresh).toMatchObject({ ok: false, missing: ['chromium', 'libvulkan1'], command: 'apt-get update && apt-get install -y chromium libvulkan1' });
    expect(fresh.message).toContain('\n  apt-get update && apt-get install -y chromium libvulkan1\n');
    expect(preflight(machine(APT)).command).toBe('sudo apt-get update && sudo apt-get install -y chromium libvulkan1');
  });

  it('without apt-get it names the packages and gives no command; off Linux it does not check', () => {
    const r = preflight(machine([]));
    expect(r).toMatchObject({ ok: false, command: null });
    expect(r.message).toMatch(/no apt-get: install chromium and libvulkan1/);
    expect(preflight(machine([], { platform: 'darwin' }))).toEqual({ ok: true });
  });

  it('honours CHROMIUM_PATH, as playwright.config.ts does', () => {
    const m = machine(['/opt/chrome/chromium', '/usr/lib/chromium/vk_swiftshader_icd.json', ...VULKAN], { chromiumPath: '/opt/chrome/chromium' });
    expect(preflight(m)).toEqual({ ok: true });
  });

  it('as a script: exit 1 with the command on stderr when something is missing, silent exit 0 otherwise', () => {
    const run = (root) => spawnSync(process.execPath, [script], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', SPRINTNET_PREFLIGHT_ROOT: root } });
    const missing = run(machine([...CHROMIUM, ...APT, ...APT_LISTS]).root);
    expect(missing.status).toBe(1);
    const expected = (process.getuid?.() ?? 0) === 0 ? 'apt-get install -y libvulkan1' : 'sudo apt-get install -y libvulkan1';
    expect(missing.stderr).toContain(`\n  ${expected}\n`);
    expect(missing.stdout).toBe('');
    const fine = run(machine([...CHROMIUM, ...VULKAN]).root);
    expect({ status: fine.status, stderr: fine.stderr }).toEqual({ status: 0, stderr: '' });
  });
});
