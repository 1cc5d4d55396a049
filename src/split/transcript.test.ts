/** The session transcript both ends keep: rewinds stamped on the next step, FLOPs and roots undone exactly. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../llm/config.ts';
import { Phase, Precision } from './codec.ts';
import { hkLeaf, outputLeaf, root } from './digest.ts';
import { flopsForStep } from './flops.ts';
import { decodeReceipt } from './proof.ts';
import { SessionTranscript, type AcceptedStep } from './transcript.ts';

const config = parseConfig({
  model_type: 'llama',
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 300,
  max_position_embeddings: 128,
  rms_norm_eps: 1e-5,
});
const header = {
  sessionId: new Uint8Array(16).fill(1),
  modelHash: new Uint8Array(32).fill(2),
  user: new Uint8Array(32).fill(3),
  volunteer: new Uint8Array(32).fill(4),
  genesis: new Uint8Array(32).fill(5),
  openedAtMs: 1_700_000_000_000,
};
const stepAt = (step: number, position: number, count: number, fill: number): AcceptedStep => ({
  step,
  position,
  count,
  phase: step === 0 ? Phase.prefill : Phase.decode,
  precision: Precision.f16,
  hkWire: new Uint8Array(count * 64 * 2).fill(fill),
  logitsWire: new Uint8Array(300 * 2).fill(fill + 1),
  cost: step === 0 ? 0 : 0.25,
  entropy: 3.5,
});

describe('SessionTranscript', () => {
  it('a rewound step leaves the record as if it was never sent, and the next step carries the rewind count', () => {
    const t = new SessionTranscript(config, 2);
    t.accept(stepAt(0, 0, 5, 10));
    t.accept(stepAt(1, 5, 1, 20));
    expect(t.rewindLast().position).toBe(5);
    t.accept(stepAt(1, 5, 1, 30));
    expect(t.rewindLast().rewinds).toBe(1);
    const last = t.accept(stepAt(1, 5, 1, 40));
    expect(last.rewinds).toBe(2);
    expect(t.steps.map((s) => s.rewinds)).toEqual([0, 2]);
    expect(t.flops).toBe(flopsForStep(config, 2, 4, 0, 5) + flopsForStep(config, 2, 4, 5, 1));
    expect(t.hkWire.map((b) => b[0])).toEqual([10, 40]);

    const r = decodeReceipt(t.receipt(header));
    expect(r).toMatchObject({ k: 2, numLayers: 4, vocab: 300, openedAtMs: header.openedAtMs, flops: t.flops });
    expect(r.steps).toEqual(t.steps);
    const first = stepAt(0, 0, 5, 10);
    const kept = stepAt(1, 5, 1, 40);
    expect(r.hkRoot).toEqual(root([first, kept].map((s) => hkLeaf(s.step, s.position, s.count, s.precision, s.hkWire))));
    expect(r.outputRoot).toEqual(root([first, kept].map((s) => outputLeaf(s.step, s.logitsWire, s.cost, s.entropy))));
  });

  it('refuses to rewind an empty session', () => {
    expect(() => new SessionTranscript(config, 1).rewindLast()).toThrow(/no step to rewind/);
  });
});
