/** Shared by the split tests: the 8-layer random test model on the float64 reference, keys, thresholds. */
import { loadReference } from '../llm/loader.ts';
import type { ForwardResult } from '../llm/model-types.ts';
import type { ReferenceKvCache, ReferenceModel } from '../llm/reference.ts';
import { MemorySource } from '../llm/source.ts';
import { makeTestModel } from '../llm/test-model.ts';
import type { TextTokenizer } from '../llm/tokenizer.ts';
import { calibrate, DEFAULT_CALIBRATION_PROMPTS } from './calibrate.ts';
import { modelHash } from './digest.ts';
import { loadFinalNorm, type SplitModel } from './engines.ts';
import { localVolunteer, type LocalVolunteer } from './local.ts';
import type { Calibration } from './metrics.ts';

export const NETWORK = 'sprintnet-test';
export const LAYERS = 8;

export interface TestRig {
  readonly model: ReferenceModel;
  readonly files: Map<string, Uint8Array>;
  readonly source: MemorySource;
  readonly tokenizer: TextTokenizer;
  readonly hash: Uint8Array;
  readonly norm: Float64Array;
  readonly calibration: Calibration;
  readonly prompts: number[][];
}

export const CALIBRATION_PROMPTS = DEFAULT_CALIBRATION_PROMPTS;

export async function testRig(seed = 1): Promise<TestRig> {
  const { files } = makeTestModel({ layers: LAYERS, seed });
  const source = new MemorySource(files);
  const { model, manifest } = await loadReference(source);
  const tokenizer = manifest.tokenizer!;
  const norm = await loadFinalNorm(source, manifest);
  const prompts = CALIBRATION_PROMPTS.map((p) => tokenizer.encodeChat([{ role: 'user', content: p }]));
  const calibration = await calibrate(model, norm, prompts, 32);
  return { model, files, source, tokenizer, hash: await modelHash(source, manifest), norm, calibration, prompts };
}

export const seedOf = (n: number): Uint8Array => new Uint8Array(32).fill(n);

/** A volunteer in memory serving the rig's model from layer 1 on, on NETWORK, linked to the user of userSeed. */
export function rigVolunteer(
  rig: TestRig,
  userSeed: Uint8Array,
  more: Partial<Parameters<typeof localVolunteer<ReferenceKvCache>>[0]> = {},
): LocalVolunteer<ReferenceKvCache> {
  return localVolunteer({ model: rig.model, lowestK: 1, modelHash: rig.hash, normWeight: rig.norm, networkId: NETWORK, userSeed, ...more });
}

/** The rig's model, but `lie` may alter what its n-th forward (from 1) returns: receipts then match the lie, so only a re-run can tell. */
export function lyingModel(rig: TestRig, lie: (out: ForwardResult, n: number) => void): SplitModel<ReferenceKvCache> {
  let calls = 0;
  return {
    config: rig.model.config,
    createKvCache: (o) => rig.model.createKvCache(o),
    async forward(args) {
      const out = await rig.model.forward(args);
      lie(out, ++calls);
      return out;
    },
  };
}
