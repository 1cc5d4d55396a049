/**
 * CpuSprintEngine on tiny against the CPU reference (task version 2): distances within the spec
 * tolerance, the appropriate flag, fingerprints and permutation keys bit for bit; the same bits
 * for any thread count; runSprint, forward with layer ranges, captures and hidden-state input.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGS } from '../sprint/config.ts';
import { rTarget } from '../sprint/difficulty.ts';
import { fingerprint } from '../sprint/fingerprint.ts';
import { ReferenceModel, logitMean, mapReferenceNonces } from '../sprint/reference.ts';
import { TensorId } from '../sprint/weights.ts';
import type { CpuSprintEngine } from './engine.ts';
import { PUBLIC_KEY, SPEC_TOLERANCE, SPRINT_SEED, cpuEngine } from './test-support.ts';
import { at } from '../sprint/indexing.ts';

const tiny = CONFIGS.tiny;
// 2900 … 4435 holds four appropriate nonces (2933, 3273, 4107, 4128) for this seed and key.
const FIRST = 2900;
const NONCES = Array.from({ length: 1536 }, (_, i) => FIRST + i);
let engine: CpuSprintEngine;
let model: ReferenceModel;
let reference: { distance: number; appropriate: boolean; fingerprint: Uint32Array; keys: Uint32Array }[];

beforeAll(async () => {
  const phases: string[] = [];
  engine = await cpuEngine({ batch: 256, onProgress: (phase) => phases.at(-1) !== phase && phases.push(phase) });
  expect(phases).toEqual(['compile', 'weights']);
  model = new ReferenceModel(tiny, SPRINT_SEED, true);
  reference = mapReferenceNonces(model, SPRINT_SEED, PUBLIC_KEY, NONCES, ({ distance, appropriate, logits, keys }) => ({
    distance,
    appropriate,
    fingerprint: fingerprint(logits, logitMean(logits)),
    keys,
  }));
}, 120_000);
afterAll(() => engine?.destroy());

describe('CpuSprintEngine on tiny', () => {
  it(`agrees with the reference on ${NONCES.length} nonces: distances within the tolerance, flags, fingerprints and keys exact`, async () => {
    const got = await engine.inspectNonces(PUBLIC_KEY, NONCES);
    const r = rTarget(tiny);
    let worst = 0;
    let appropriate = 0;
    reference.forEach((ref, i) => {
      const distance = at(got.distances, i, 'distance');
      worst = Math.max(worst, Math.abs(distance - ref.distance));
      expect(distance < r, `nonce ${i}`).toBe(ref.appropriate);
      expect(Array.from(got.fingerprints.subarray(4 * i, 4 * i + 4)), `fingerprint of nonce ${i}`).toEqual(Array.from(ref.fingerprint));
      expect(Array.from(got.keys.subarray(8 * i, 8 * i + 8)), `keys of nonce ${i}`).toEqual(Array.from(ref.keys));
      if (ref.appropriate) appropriate++;
    });
    expect(worst).toBeLessThanOrEqual(SPEC_TOLERANCE);
    // Measured: 1.0e-7 (one f32 rounding of d). The list holds appropriate nonces too.
    expect(worst).toBeLessThan(1e-6);
    expect(appropriate).toBe(4);
  });

  it('gives the same bits with 1, 2 or 3 threads and any batch (each output element has one owner and one order)', async () => {
    const nonces = NONCES.slice(0, 40);
    const base = await engine.evaluateNonces(PUBLIC_KEY, nonces);
    for (const [threads, batch] of [
      [1, 7],
      [3, 16],
    ]) {
      const other = await cpuEngine({ threads, batch });
      try {
        expect(Array.from(await other.evaluateNonces(PUBLIC_KEY, nonces))).toEqual(Array.from(base));
      } finally {
        other.destroy();
      }
    }
  });

  it('holds the codes of docs/sprint-vectors.json (1 byte per parameter) and reproduces its distances', async () => {
    const vectors = JSON.parse(readFileSync('docs/sprint-vectors.json', 'utf8')).configs.find((c: { config: string }) => c.config === 'tiny');
    const other = await cpuEngine({ sprintSeed: new Uint8Array(Buffer.from(vectors.sprintSeed, 'hex')), threads: 1 });
    try {
      const hex = (b: Uint8Array) => Buffer.from(sha256(b)).toString('hex');
      let checked = 0;
      for (const t of vectors.tensors as { tensor: keyof typeof TensorId; layer: number; codesSha256: string }[]) {
        if (!(t.tensor in TensorId) || t.tensor === 'inputNoise') continue;
        expect(hex(await other.readWeights(TensorId[t.tensor], t.layer)), `${t.tensor} layer ${t.layer}`).toBe(t.codesSha256);
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(4);
      const publicKey = new Uint8Array(Buffer.from(vectors.publicKey, 'hex'));
      const nonces = vectors.nonces as { nonce: number; distance: number; appropriate: boolean }[];
      const d = await other.evaluateNonces(
        publicKey,
        nonces.map((n) => n.nonce),
      );
      nonces.forEach((n, i) => {
        const distance = at(d, i, 'distance');
        expect(Math.abs(distance - n.distance)).toBeLessThanOrEqual(SPEC_TOLERANCE);
        expect(distance < vectors.rTarget).toBe(n.appropriate);
      });
    } finally {
      other.destroy();
    }
    expect(engine.weightBytes).toBe(2 * 512 * 64 + 4 * 64 + 2 * (4 * 64 * 64 + 2 * 64 * 256));
  });

  it('runSprint finds exactly the appropriate nonces, stops at maxNonces, resumes from nextNonce', async () => {
    const progress: number[] = [];
    const result = await engine.runSprint({ publicKey: PUBLIC_KEY, startNonce: FIRST, maxNonces: 1000, onProgress: (p) => progress.push(p.nextNonce) });
    expect(result).toMatchObject({ noncesTried: 1000, nextNonce: FIRST + 1000, stoppedBy: 'maxNonces' });
    expect(result.found.map((f) => f.nonce)).toEqual([2933, 3273]);
    expect(progress.at(-1)).toBe(FIRST + 1000);
    const resumed = await engine.runSprint({ publicKey: PUBLIC_KEY, startNonce: FIRST + 1000, maxNonces: 536, found: result.found });
    expect(resumed.found.map((f) => f.nonce)).toEqual(reference.flatMap((r, i) => (r.appropriate ? [FIRST + i] : [])));
    resumed.found.forEach((f) => expect(Math.abs(f.distance - at(reference, f.nonce - FIRST, 'reference nonce').distance)).toBeLessThan(1e-6));
  });

  it('runSprint stops on abort and on duration; the next call works', async () => {
    const controller = new AbortController();
    const aborted = engine.runSprint({ publicKey: PUBLIC_KEY, signal: controller.signal, onProgress: (p) => p.noncesTried >= 512 && controller.abort() });
    const r = await aborted;
    expect(r.stoppedBy).toBe('abort');
    expect(r.noncesTried % engine.batch).toBe(0);
    const timed = await engine.runSprint({ publicKey: PUBLIC_KEY, durationMs: 50 });
    expect(timed.stoppedBy).toBe('duration');
    const d = at(await engine.evaluateNonces(PUBLIC_KEY, [FIRST + 5]), 0, 'distance');
    expect(Math.abs(d - at(reference, 5, 'reference nonce').distance)).toBeLessThan(1e-6);
  });

  it('forward: layer ranges compose, captures, logits and hidden-state input match the reference', async () => {
    const tokens = [
      [1, 2, 3, 4],
      [500, 7, 9, 11],
      [0, 0, 0, 0],
    ];
    const full = await engine.forward({ tokens, capture: [0], logits: true });
    const first = await engine.forward({ tokens, toLayer: 1 });
    const rest = await engine.forward({ hidden: { data: first.hidden, sequences: 3, seqLen: 4 }, fromLayer: 1, logits: true });
    expect(Array.from(full.captured.get(0)!)).toEqual(Array.from(first.hidden));
    expect(Array.from(rest.hidden)).toEqual(Array.from(full.hidden));
    expect(Array.from(rest.logits!)).toEqual(Array.from(full.logits!));
    const states = model.runLayers(
      tokens.map((t) => model.embed(Uint32Array.from(t))),
      0,
      tiny.layers,
    );
    expect(states).toHaveLength(tokens.length);
    states.forEach((state, s) => {
      const ref = model.logits(state);
      const got = full.logits!.subarray(s * tiny.vocab, (s + 1) * tiny.vocab);
      let worst = 0;
      ref.forEach((z, i) => (worst = Math.max(worst, Math.abs(z - at(got, i, 'logit')))));
      expect(worst).toBeLessThan(1e-4);
      state.forEach((x, i) => expect(Math.abs(x - at(full.hidden, s * 4 * 64 + i, 'hidden value'))).toBeLessThan(1e-4));
    });
    // Shorter sequences and more sequences than one batch.
    const many = Array.from({ length: 300 }, (_, i) => [i % 512, (7 * i) % 512]);
    const short = await engine.forward({ tokens: many, logits: true });
    const last = model.runLayers([model.embed(Uint32Array.from(at(many, 299, 'sequence')))], 0, tiny.layers);
    const ref = model.logits(at(last, 0, 'final state'));
    expect(Math.abs(at(short.logits!, 299 * 512 + 3, 'logit') - at(ref, 3, 'reference logit'))).toBeLessThan(1e-4);
  });

  it('rejects bad arguments with typed errors', async () => {
    await expect(engine.forward({ tokens: [[512]] })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(engine.forward({ tokens: [[1]], fromLayer: 2, toLayer: 1 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(engine.runSprint({ publicKey: PUBLIC_KEY, sprintSeed: new Uint8Array(32), maxNonces: 1 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(cpuEngine({ memoryBudgetBytes: 1 << 20 })).rejects.toMatchObject({ code: 'INSUFFICIENT_MEMORY' });
  });
});
