/**
 * Node entry to WebGPU through the `webgpu` package (Dawn). Node only: browser code paths must not
 * import this file. Also provides the Node side of the autotune cache (a JSON file).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuError } from './errors.ts';
import type { TuneCache } from './autotune.ts';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** True when the machine shows a GPU device node (NVIDIA or DRM render node): then Dawn picks it without help. */
function hasRealGpu(): boolean {
  if (existsSync('/dev/nvidia0') || existsSync('/dev/dxg')) return true;
  try {
    return readdirSync('/dev/dri').some((name) => name.startsWith('renderD'));
  } catch {
    return false;
  }
}

/**
 * Dawn's Vulkan backend needs an ICD. On a machine without a GPU, point it at Chromium's SwiftShader
 * (Mesa's lavapipe is rejected by Dawn). Must run before create(); never overrides the caller's choice.
 */
function configureEnvironment(): void {
  if (process.platform !== 'linux') return;
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD) && !hasRealGpu()) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'sprintnet-xdg-'));
}

/**
 * Dawn hides shader-f16 on every NVIDIA GPU under Vulkan, though the driver offers all it asks for
 * (VK_KHR_shader_float16_int8, shaderFloat16, shaderInt16, storageBuffer16BitAccess): a policy
 * gate pending f16 CTS failures (dawn src/dawn/native/vulkan/PhysicalDeviceVk.cpp,
 * ValidateFeatureSupportedWithTogglesImpl, crbug.com/42251215) that this adapter toggle lifts.
 * Any host can set it, so the f16 screen (attack e, ./screen.ts) must be measured with it on; it is
 * safe for Sprints because only the screen's shaders use f16, every find is measured again in the
 * f32 pass, and the screen turns on only where it is timed to pay (./screen-choice.ts). The
 * toggle changes nothing on other vendors. SPRINTNET_DAWN_NVIDIA_F16=0 leaves Dawn's gate in place.
 */
function dawnFlags(): string[] {
  return process.env.SPRINTNET_DAWN_NVIDIA_F16 === '0' ? [] : ['enable-dawn-features=vulkan_enable_f16_on_nvidia'];
}

// Kept for the life of the process: when the GPU object is garbage-collected, Dawn kills the process.
let gpuSingleton: GPU | undefined;

export async function getGpu(): Promise<GPU> {
  if (gpuSingleton) return gpuSingleton;
  configureEnvironment();
  let mod: typeof import('webgpu');
  try {
    mod = await import('webgpu');
  } catch (cause) {
    throw new GpuError('NO_WEBGPU', "the 'webgpu' package (Dawn for Node) could not be loaded", { cause });
  }
  Object.assign(globalThis, mod.globals);
  gpuSingleton = mod.create(dawnFlags()) as GPU;
  return gpuSingleton;
}

/** Autotune cache as a JSON file: $SPRINTNET_CACHE_DIR, else ./.cache/sprintnet when it exists, else ~/.cache/sprintnet. */
export function nodeTuneCache(dir = defaultCacheDir()): TuneCache {
  const file = join(dir, 'gpu-autotune.json');
  const readAll = (): Record<string, unknown> => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  return {
    async get(key) {
      return readAll()[key];
    },
    async set(key, value) {
      const all = readAll();
      all[key] = value;
      try {
        mkdirSync(dir, { recursive: true });
        writeFileSync(file, JSON.stringify(all, null, 2));
      } catch {
        // A read-only home is no reason to fail: the next run simply tunes again.
      }
    },
  };
}

function defaultCacheDir(): string {
  if (process.env.SPRINTNET_CACHE_DIR) return process.env.SPRINTNET_CACHE_DIR;
  const local = join(process.cwd(), '.cache');
  return existsSync(local) ? join(local, 'sprintnet') : join(homedir(), '.cache', 'sprintnet');
}
