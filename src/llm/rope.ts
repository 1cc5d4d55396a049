/**
 * Rotary position embedding as Hugging Face computes it (`ROPE_INIT_FUNCTIONS` in
 * transformers/modeling_rope_utils.py), in float64: inverse frequencies per rotary pair, scaled
 * by the config's rope_scaling, and the cos/sin table both the CPU reference and the GPU use.
 * Rotation is the "rotate_half" form: element i pairs with i + headDim/2.
 */
import type { LlamaConfig } from './config.ts';

/** inv_freq[i] for i < headDim/2, and the factor cos/sin are multiplied by (yarn's attention factor; 1 otherwise). */
export function ropeFrequencies(c: LlamaConfig): { invFreq: Float64Array; attentionFactor: number } {
  const dim = c.headDim;
  const half = dim / 2;
  const base = c.ropeTheta;
  const invFreq = new Float64Array(half);
  for (let i = 0; i < half; i++) invFreq[i] = 1 / base ** ((2 * i) / dim);
  const s = c.ropeScaling;
  switch (s.type) {
    case 'default':
      return { invFreq, attentionFactor: 1 };
    case 'linear':
      for (let i = 0; i < half; i++) invFreq[i]! /= s.factor;
      return { invFreq, attentionFactor: 1 };
    case 'llama3': {
      const lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
      const highWavelen = s.originalMaxPositions / s.highFreqFactor;
      for (let i = 0; i < half; i++) {
        const f = invFreq[i]!;
        const wavelen = (2 * Math.PI) / f;
        if (wavelen > lowWavelen) invFreq[i] = f / s.factor;
        else if (wavelen >= highWavelen) {
          const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
          invFreq[i] = (1 - smooth) * (f / s.factor) + smooth * f;
        }
      }
      return { invFreq, attentionFactor: 1 };
    }
    case 'yarn': {
      const correctionDim = (rotations: number): number => (dim * Math.log(s.originalMaxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
      const low = Math.max(Math.floor(correctionDim(s.betaFast)), 0);
      let high = Math.min(Math.ceil(correctionDim(s.betaSlow)), dim - 1);
      if (low === high) high += 0.001;
      for (let i = 0; i < half; i++) {
        const extrapolation = invFreq[i]!;
        const interpolation = extrapolation / s.factor;
        const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
        const extrapolationFactor = 1 - ramp;
        invFreq[i] = interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor;
      }
      const attentionFactor = s.attentionFactor ?? (s.factor <= 1 ? 1 : 0.1 * Math.log(s.factor) + 1);
      return { invFreq, attentionFactor };
    }
  }
}

/**
 * cos and sin for positions [0, positions): row p holds cos(p·inv_freq[i])·factor for i < headDim/2,
 * then the sines. float64; the GPU gets it rounded to f32 once.
 */
export function ropeTable(c: LlamaConfig, positions: number): Float64Array {
  const { invFreq, attentionFactor } = ropeFrequencies(c);
  const half = invFreq.length;
  const table = new Float64Array(positions * 2 * half);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      // HF computes the angle in f32 (inv_freq f32 × position f32); doing it in f64 is closer to the ideal.
      const angle = p * invFreq[i]!;
      table[p * 2 * half + i] = Math.cos(angle) * attentionFactor;
      table[p * 2 * half + half + i] = Math.sin(angle) * attentionFactor;
    }
  }
  return table;
}
