/** Shared by the GPU tests (Node only). */
import { VALIDATION_TOLERANCE } from '../sprint/validate.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getGpu, nodeTuneCache } from './gpu-node.ts';
import { SprintEngine, type EngineOptions } from './transformer.ts';

export const SPRINT_SEED = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
export const PUBLIC_KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 101 + 3) & 0xff);
export const SPEC_TOLERANCE = VALIDATION_TOLERANCE;

const cacheDir = mkdtempSync(join(tmpdir(), 'sprintnet-tune-'));

export async function nodeEngine(options: Partial<EngineOptions> = {}): Promise<SprintEngine> {
  return SprintEngine.create({ config: 'tiny', sprintSeed: SPRINT_SEED, gpu: await getGpu(), tuneCache: nodeTuneCache(cacheDir), ...options });
}
