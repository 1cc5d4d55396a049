/** Shared by the CPU backend's tests (Node only). */
import { VALIDATION_TOLERANCE } from '../sprint/validate.ts';
import { CpuSprintEngine, type CpuEngineOptions } from './engine.ts';
import { nodeSpawner } from './threads-node.ts';

export const SPRINT_SEED = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
export const PUBLIC_KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 101 + 3) & 0xff);
export const SPEC_TOLERANCE = VALIDATION_TOLERANCE;

export function cpuEngine(options: Partial<CpuEngineOptions> = {}): Promise<CpuSprintEngine> {
  return CpuSprintEngine.create({ config: 'tiny', sprintSeed: SPRINT_SEED, spawner: nodeSpawner, threads: 2, ...options });
}
