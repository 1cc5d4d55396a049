/**
 * What an attacker learns from honest runs before screening: output statistics (mean and
 * covariance of the final normalised hidden state, hence of the logits), the most likely value of
 * each fingerprint bit, and a ridge-regression predictor of the output from the nonce's input.
 */
import { FINGERPRINT_BITS, FINGERPRINT_WORDS } from '../sprint/fingerprint.ts';
import type { AuditWorld, Evaluated } from './world.ts';

export interface Knowledge {
  /** Mean of h, and Uc·mean(h): the mean centred logits. */
  muH: Float64Array;
  muZc: Float64Array;
  /** Covariance of h (d × d). */
  covH: Float64Array;
  /** Mean norm of the centred logits. */
  norm: number;
  /** Majority value of each fingerprint bit over the training nonces (version 2). */
  fpMajority: Uint32Array;
  /** Ridge predictor h ≈ A·[x, 1] (d rows of T·d + 1) and its residual covariance, when trained. */
  linear?: { a: Float64Array; features: number; covRes: Float64Array };
}

export function learn(world: AuditWorld, training: readonly Evaluated[], trainNonces: readonly number[], withLinear: boolean): Knowledge {
  const d = world.config.dModel;
  const n = training.length;
  const muH = new Float64Array(d);
  for (const e of training) for (let k = 0; k < d; k++) muH[k]! += e.h[k]! / n;
  const covH = covariance(
    training.map((e) => e.h),
    muH,
  );
  let norm = 0;
  const zc = new Float64Array(world.config.vocab);
  for (const e of training) {
    world.centredLogits(e.h, zc);
    norm += Math.sqrt(zc.reduce((s, v) => s + v * v, 0)) / n;
  }
  const fpMajority = new Uint32Array(FINGERPRINT_WORDS);
  for (let j = 0; j < FINGERPRINT_BITS; j++) {
    const ones = training.filter((e) => (e.fp[j >>> 5]! >>> (j & 31)) & 1).length;
    if (2 * ones > n) fpMajority[j >>> 5]! |= 1 << (j & 31);
  }
  const knowledge: Knowledge = { muH, muZc: world.centredLogits(muH), covH, norm, fpMajority };
  if (withLinear) knowledge.linear = ridge(world, training, trainNonces);
  return knowledge;
}

function covariance(rows: readonly Float64Array[], mean: Float64Array): Float64Array {
  const d = mean.length;
  const cov = new Float64Array(d * d);
  for (const r of rows) {
    for (let a = 0; a < d; a++) {
      const da = r[a]! - mean[a]!;
      for (let b = 0; b < d; b++) cov[a * d + b]! += (da * (r[b]! - mean[b]!)) / rows.length;
    }
  }
  return cov;
}

/** Features of a nonce for the linear predictor: its embedded input, flattened, and a constant. */
export function features(world: AuditWorld, seed: Uint8Array, out: Float64Array): Float64Array {
  out.set(world.input(seed));
  out[out.length - 1] = 1;
  return out;
}

function ridge(world: AuditWorld, training: readonly Evaluated[], nonces: readonly number[]): Knowledge['linear'] {
  const d = world.config.dModel;
  const f = world.config.seqLen * d + 1;
  const gram = new Float64Array(f * f);
  const cross = new Float64Array(f * d);
  const phi = new Float64Array(f);
  training.forEach((e, i) => {
    features(world, world.seed(nonces[i]!), phi);
    for (let a = 0; a < f; a++) {
      const pa = phi[a]!;
      if (pa === 0) continue;
      for (let b = a; b < f; b++) gram[a * f + b]! += pa * phi[b]!;
      for (let k = 0; k < d; k++) cross[a * d + k]! += pa * e.h[k]!;
    }
  });
  const lambda = 1e-3 * training.length;
  for (let a = 0; a < f; a++) {
    for (let b = 0; b < a; b++) gram[a * f + b] = gram[b * f + a]!;
    gram[a * f + a]! += lambda;
  }
  const coef = choleskySolve(gram, cross, f, d); // f × d
  const a = new Float64Array(d * f);
  for (let k = 0; k < d; k++) for (let j = 0; j < f; j++) a[k * f + j] = coef[j * d + k]!;
  const residuals = training.map((e, i) => {
    const h = predictLinear(a, f, features(world, world.seed(nonces[i]!), phi), d);
    return h.map((v, k) => e.h[k]! - v);
  });
  return { a, features: f, covRes: covariance(residuals, new Float64Array(d)) };
}

export function predictLinear(a: Float64Array, f: number, phi: Float64Array, d: number): Float64Array {
  const h = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    let s = 0;
    for (let j = 0; j < f; j++) s += a[k * f + j]! * phi[j]!;
    h[k] = s;
  }
  return h;
}

/** Solves G·X = B for symmetric positive definite G (n × n) and B (n × m), by Cholesky. */
function choleskySolve(g: Float64Array, b: Float64Array, n: number, m: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = g[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = i === j ? Math.sqrt(s) : s / l[j * n + j]!;
    }
  }
  const x = b.slice();
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) {
      let s = x[i * m + c]!;
      for (let k = 0; k < i; k++) s -= l[i * n + k]! * x[k * m + c]!;
      x[i * m + c] = s / l[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i * m + c]!;
      for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k * m + c]!;
      x[i * m + c] = s / l[i * n + i]!;
    }
  }
  return x;
}
