import { describe, expect, it } from 'vitest';
import { CONFIGS, flopsPerNonce, headDim, layerMatmulParams, totalParams } from './config.ts';

// The numbers stated in docs/sprint-spec.md §2.
describe('configs', () => {
  it('canonical: 612,370,432 parameters, 4,840,226,816 FLOPs per nonce, head dim 4', () => {
    expect(layerMatmulParams(CONFIGS.canonical)).toBe(603_979_776);
    expect(totalParams(CONFIGS.canonical)).toBe(612_370_432);
    expect(flopsPerNonce(CONFIGS.canonical)).toBe(4_840_226_816);
    expect(headDim(CONFIGS.canonical)).toBe(4);
  });

  it('tiny: 98,304 layer-matmul parameters, 851,968 FLOPs per nonce', () => {
    expect(layerMatmulParams(CONFIGS.tiny)).toBe(98_304);
    expect(flopsPerNonce(CONFIGS.tiny)).toBe(851_968);
  });

  it('every config has a power-of-two vocabulary and heads that divide d_model', () => {
    for (const c of Object.values(CONFIGS)) {
      expect(Number.isInteger(Math.log2(c.vocab))).toBe(true);
      expect(c.dModel % c.heads).toBe(0);
    }
  });
});
