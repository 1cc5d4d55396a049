#!/usr/bin/env node
// `npm test` runs this first: it checks for the system packages the tests need and, when one is
// missing, stops at once with the one command that installs them (issue 11), instead of letting the
// Node WebGPU tests fail deep inside with "no WebGPU adapter".
//
//   chromium    Playwright drives /usr/bin/chromium (or $CHROMIUM_PATH); its SwiftShader Vulkan
//               driver (/usr/lib/chromium/vk_swiftshader_icd.json) is the GPU of machines without one.
//   libvulkan1  the Vulkan loader (libvulkan.so.1) that the `webgpu` package (Dawn) opens.
//
// .ci/run installs the same packages itself. Usage: node tools/preflight.mjs (exit 1 when something is missing).
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIBRARY_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/lib/x86_64-linux-gnu',
  '/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/lib',
];

/**
 * What the checks look at, on the real machine or on a fake one (tests). Paths are absolute and
 * read under `root`.
 * @typedef {{ root: string, path: string, chromiumPath?: string, uid: number, platform: string }} Machine
 */

/** @param {Machine} m @param {string} p */
const exists = (m, p) => existsSync(join(m.root, p));

/** @param {Machine} m @param {string} name */
function onPath(m, name) {
  return m.path.split(delimiter).some((dir) => dir && exists(m, join(dir, name)));
}

/** The packages the tests need, each with how to tell it is installed. */
export const REQUIREMENTS = [
  {
    name: 'chromium',
    why: 'the browser tests (Playwright) and, through its SwiftShader driver, WebGPU on machines without a GPU',
    /** @param {Machine} m */
    present: (m) =>
      (m.chromiumPath ? exists(m, m.chromiumPath) : exists(m, '/usr/bin/chromium') || onPath(m, 'chromium')) &&
      exists(m, '/usr/lib/chromium/vk_swiftshader_icd.json'),
  },
  {
    name: 'libvulkan1',
    why: 'the Vulkan loader that the Node WebGPU tests and the bench open (libvulkan.so.1)',
    /** @param {Machine} m */
    present: (m) => LIBRARY_DIRS.some((dir) => exists(m, join(dir, 'libvulkan.so.1'))),
  },
];

/** @param {Machine} m */
function aptListsPresent(m) {
  try {
    return readdirSync(join(m.root, '/var/lib/apt/lists')).some((f) => f.includes('_Packages'));
  } catch {
    return false;
  }
}

/**
 * The one command line that installs `packages`, or null where there is no apt-get. A machine whose
 * package lists were never downloaded (a fresh container) needs `apt-get update` first.
 * @param {string[]} packages @param {Machine} m
 */
export function installCommand(packages, m) {
  if (!onPath(m, 'apt-get')) return null;
  const sudo = m.uid === 0 ? '' : 'sudo ';
  const install = `${sudo}apt-get install -y ${packages.join(' ')}`;
  return aptListsPresent(m) ? install : `${sudo}apt-get update && ${install}`;
}

/**
 * @param {Machine} m
 * @returns {{ ok: true } | { ok: false, missing: string[], command: string | null, message: string }}
 */
export function preflight(m) {
  // Debian's packages are what the tests were built on; elsewhere, let the tests speak for themselves.
  if (m.platform !== 'linux') return { ok: true };
  const missing = REQUIREMENTS.filter((r) => !r.present(m));
  if (missing.length === 0) return { ok: true };
  const names = missing.map((r) => r.name);
  const command = installCommand(names, m);
  const lines = [
    `npm test needs ${names.join(' and ')}, which ${missing.length === 1 ? 'is' : 'are'} not installed:`,
    ...missing.map((r) => `  ${r.name}: ${r.why}`),
    command
      ? `Install ${missing.length === 1 ? 'it' : 'them'} with this one command, then run npm test again:\n\n  ${command}\n`
      : `This machine has no apt-get: install ${names.join(' and ')} (Debian's package names) with its package manager, then run npm test again.`,
  ];
  return { ok: false, missing: names, command, message: lines.join('\n') };
}

/** @returns {Machine} */
export function thisMachine(env = process.env) {
  return {
    root: '/',
    path: env.PATH ?? '',
    chromiumPath: env.CHROMIUM_PATH,
    uid: typeof process.getuid === 'function' ? process.getuid() : 0,
    platform: process.platform,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // SPRINTNET_PREFLIGHT_ROOT reads the machine under another root (tools/preflight.test.mjs).
  const machine = { ...thisMachine(), root: process.env.SPRINTNET_PREFLIGHT_ROOT ?? '/' };
  const result = preflight(machine);
  if (!result.ok) {
    process.stderr.write(`${result.message}\n`);
    process.exitCode = 1;
  }
}
