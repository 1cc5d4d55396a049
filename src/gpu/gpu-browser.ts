/** Browser / dedicated Worker entry to WebGPU. Never imports Node modules. */
import { GpuError } from './errors.ts';

export async function getGpu(): Promise<GPU> {
  const gpu = typeof navigator === 'undefined' ? undefined : (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) {
    const hint =
      typeof process !== 'undefined' && process.versions?.node
        ? 'in Node, pass `gpu: await getGpu()` from src/gpu/gpu-node.ts'
        : 'needs a recent browser and a secure context (https or localhost)';
    throw new GpuError('NO_WEBGPU', `WebGPU is not available here (navigator.gpu is missing): ${hint}`);
  }
  return gpu;
}

/** Autotune cache in IndexedDB (database 'sprintnet-gpu', store 'autotune'). */
export function browserTuneCache(): import('./autotune.ts').TuneCache {
  const db = import('idb').then(({ openDB }) =>
    openDB('sprintnet-gpu', 1, {
      upgrade(database) {
        database.createObjectStore('autotune');
      },
    }),
  );
  return {
    async get(key) {
      return (await db).get('autotune', key);
    },
    async set(key, value) {
      await (await db).put('autotune', value, key);
    },
  };
}
