/**
 * CpuSprintEngine on canonical (612 M parameters, 1 byte each): the codes and distances of
 * docs/sprint-vectors.json, and two appropriate nonces of the same seed and key whose reference
 * distances were computed with src/sprint/reference.ts (evaluateNonces, float64, 26 s).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGS, totalParams } from '../sprint/config.ts';
import { TensorId } from '../sprint/weights.ts';
import type { CpuSprintEngine } from './engine.ts';
import { SPEC_TOLERANCE, cpuEngine } from './test-support.ts';
import { at } from '../sprint/indexing.ts';

const vectors = JSON.parse(readFileSync('docs/sprint-vectors.json', 'utf8')).configs.find((c: { config: string }) => c.config === 'canonical');
/** Found by this engine's runSprint and checked with the reference (both appropriate: d < 1.3901097828961937). */
const APPROPRIATE = [
  { nonce: 87, distance: 1.3890241461973687, appropriate: true },
  { nonce: 732, distance: 1.388971836468211, appropriate: true },
];
let engine: CpuSprintEngine;

beforeAll(async () => {
  engine = await cpuEngine({ config: 'canonical', sprintSeed: new Uint8Array(Buffer.from(vectors.sprintSeed, 'hex')), batch: 4 });
}, 300_000);
afterAll(() => engine?.destroy());

describe('CpuSprintEngine on canonical', () => {
  it('holds the weights in 1 byte per parameter, with the codes of docs/sprint-vectors.json', async () => {
    expect(engine.weightBytes).toBe(totalParams(CONFIGS.canonical));
    expect(engine.memoryBytes).toBeLessThan(totalParams(CONFIGS.canonical) * 1.02);
    const hex = (b: Uint8Array) => Buffer.from(sha256(b)).toString('hex');
    let checked = 0;
    for (const t of vectors.tensors as { tensor: keyof typeof TensorId; layer: number; codesSha256: string }[]) {
      if (!(t.tensor in TensorId) || t.tensor === 'inputNoise') continue;
      expect(hex(await engine.readWeights(TensorId[t.tensor], t.layer)), `${t.tensor} layer ${t.layer}`).toBe(t.codesSha256);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  });

  it('distances of 4 nonces (2 appropriate) agree with the reference within the tolerance, and the flags match', async () => {
    const wanted = [...(vectors.nonces as { nonce: number; distance: number; appropriate: boolean }[]), ...APPROPRIATE];
    const d = await engine.evaluateNonces(
      new Uint8Array(Buffer.from(vectors.publicKey, 'hex')),
      wanted.map((n) => n.nonce),
    );
    expect(d).toHaveLength(wanted.length);
    wanted.forEach((ref, i) => {
      const distance = at(d, i, 'distance');
      expect(Math.abs(distance - ref.distance), `nonce ${ref.nonce}`).toBeLessThanOrEqual(SPEC_TOLERANCE);
      // Measured: ≤ 4.5e-8.
      expect(Math.abs(distance - ref.distance), `nonce ${ref.nonce}`).toBeLessThan(1e-6);
      expect(distance < vectors.rTarget, `nonce ${ref.nonce}`).toBe(ref.appropriate);
    });
  });
});
