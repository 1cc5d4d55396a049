/**
 * The peer baseline: the same Sprint forward pass (task version 2, spec §5–§7: embed plus the
 * nonce's input noise, L pre-norm blocks with causal attention and ReLU FFN, final norm, LM head on
 * the last position, fingerprint of the logits → permutation keys, keyed permutation, distance to
 * τ) written the way a web developer would with TensorFlow.js on its WebGPU backend, with f32
 * weights. Values are not the Sprint's (throughput does not depend on them): weights are filled on
 * the GPU so that setting up the canonical model takes seconds, not minutes.
 *
 * Node has no `navigator.gpu`; tfjs-backend-webgpu looks for it, so we hand it the `webgpu`
 * package's GPU object (the same Dawn instance, so the same adapter as the engine).
 */
import type { SprintConfig } from '../sprint/config.ts';
import { headDim, vocabBits } from '../sprint/config.ts';
import { fingerprint, outputPermutationKeys } from '../sprint/fingerprint.ts';
import { permutationTable } from '../sprint/permutation.ts';
import { generateTensor, GLOBAL_LAYER, TensorId } from '../sprint/weights.ts';
import { timeRepeated, type Timing } from './timing.ts';

type Tf = typeof import('@tensorflow/tfjs-core');
type Tensor = import('@tensorflow/tfjs-core').Tensor;
type Tensor2D = import('@tensorflow/tfjs-core').Tensor2D;

export interface PeerResult {
  readonly nonceRate: number;
  readonly gflops: number;
  readonly setupMs: number;
  readonly timing: Timing;
  readonly backend: string;
}

let tfPromise: Promise<Tf> | undefined;

/** Loads tfjs-core + the WebGPU backend on `gpu`; throws if the backend cannot start. */
export function loadTfWebGpu(gpu: GPU): Promise<Tf> {
  tfPromise ??= (async () => {
    const nav = (globalThis as { navigator?: object }).navigator;
    if (!nav || !('gpu' in nav)) {
      Object.defineProperty(globalThis, 'navigator', { value: { ...(nav ?? {}), gpu, userAgent: 'node' }, configurable: true, writable: true });
    }
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: the webgpu backend failed to initialise');
    await tf.ready();
    return tf;
  })();
  return tfPromise;
}

interface PeerLayer {
  wq: Tensor2D;
  wk: Tensor2D;
  wv: Tensor2D;
  wo: Tensor2D;
  w1: Tensor2D;
  w2: Tensor2D;
}

class PeerModel {
  private readonly layers: PeerLayer[] = [];
  private readonly tokEmb: Tensor2D;
  private readonly posEmb: Tensor2D;
  private readonly lmHead: Tensor2D;
  private readonly tau: Tensor;
  private readonly causalMask: Tensor;

  constructor(
    private readonly tf: Tf,
    private readonly config: SprintConfig,
  ) {
    const { dModel: d, ffnHidden: F, vocab: V, seqLen: T, layers } = config;
    // Distinct tensors per layer (f32: 4 bytes/param), so the peer streams as much memory as a real model.
    const weight = (rows: number, cols: number, k: number) => tf.fill([rows, cols], (k % 13) / 64 - 0.09) as Tensor2D;
    this.tokEmb = weight(V, d, 1);
    this.posEmb = weight(T, d, 2);
    this.lmHead = weight(V, d, 3);
    for (let l = 0; l < layers; l++) {
      this.layers.push({
        wq: weight(d, d, l),
        wk: weight(d, d, l + 1),
        wv: weight(d, d, l + 2),
        wo: weight(d, d, l + 3),
        w1: weight(F, d, l + 4),
        w2: weight(d, F, l + 5),
      });
    }
    this.tau = tf.tidy(() => tf.div(tf.randomNormal([V]), Math.sqrt(V)));
    // Additive causal mask [T, T]: 0 where u ≤ t, −1e9 above the diagonal.
    this.causalMask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9));
  }

  dispose(): void {
    this.tf.dispose([this.tokEmb, this.posEmb, this.lmHead, this.tau, this.causalMask, ...this.layers.flatMap((w) => Object.values(w))]);
  }

  private rmsnorm(x: Tensor): Tensor {
    const tf = this.tf;
    return tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 2 ** -20)));
  }

  /** Logits [batch, V] of `batch` nonces given their tokens [batch·T] and input noise [batch·T, d]. */
  logits(tokens: Tensor, noise: Tensor): Tensor2D {
    const tf = this.tf;
    const { dModel: d, heads: H, seqLen: T } = this.config;
    const dh = headDim(this.config);
    const B = tokens.shape[0] / T;
    return tf.tidy(() => {
      // tfjs-core alone has no chained methods (x.add(y)): those come with the union package.
      let x: Tensor = tf.add(tf.reshape(tf.add(tf.reshape(tf.gather(this.tokEmb, tokens), [B, T, d]), this.posEmb), [B * T, d]), noise);
      const heads = (m: Tensor) => tf.transpose(tf.reshape(m, [B, T, H, dh]), [0, 2, 1, 3]);
      for (const w of this.layers) {
        const h = this.rmsnorm(x);
        const q = heads(tf.matMul(h, w.wq, false, true));
        const k = heads(tf.matMul(h, w.wk, false, true));
        const v = heads(tf.matMul(h, w.wv, false, true));
        const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), this.causalMask);
        const o = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), v), [0, 2, 1, 3]), [B * T, d]);
        x = tf.add(x, tf.matMul(o, w.wo, false, true));
        const f = tf.relu(tf.matMul(this.rmsnorm(x), w.w1, false, true));
        x = tf.add(x, tf.matMul(f, w.w2, false, true));
      }
      const last = this.rmsnorm(tf.reshape(tf.slice(tf.reshape(x, [B, T, d]), [0, T - 1, 0], [B, 1, d]), [B, d]));
      return tf.matMul(last, this.lmHead, false, true);
    });
  }

  /** Distances from logits [batch, V] and the permutation indices [batch, V]. */
  distances(logits: Tensor, permutation: Tensor): Tensor {
    const tf = this.tf;
    return tf.tidy(() => {
      const y = tf.gather(logits, permutation, 1, 1);
      const centred = tf.sub(y, tf.mean(y, 1, true));
      const cos = tf.div(tf.sum(tf.mul(centred, this.tau), 1), tf.sqrt(tf.sum(tf.square(centred), 1)));
      return tf.sqrt(tf.relu(tf.sub(2, tf.mul(cos, 2))));
    });
  }
}

/**
 * Times the peer forward on `batch` nonces per pass. Each pass also draws tokens and generates the
 * input noise on the CPU, and, between the LM head and the output stage, reads the logits back to
 * take their fingerprints and build the permutation tables on the CPU (tfjs has no wrapping u32
 * arithmetic for Philox or the Feistel rounds): the keys depend on the logits, so a second sync.
 */
export async function measurePeer(
  gpu: GPU,
  config: SprintConfig,
  batch: number,
  flopsPerNonce: number,
  minSeconds: number,
  log: (line: string) => void = () => {},
): Promise<PeerResult> {
  const t0 = performance.now();
  const tf = await loadTfWebGpu(gpu);
  const model = new PeerModel(tf, config);
  const { vocab: V, seqLen: T, dModel: d } = config;
  let nonce = 0;
  const pass = async () => {
    const started = performance.now();
    const first = nonce;
    const tokenIds = new Int32Array(batch * T);
    const noiseValues = new Float32Array(batch * T * d);
    for (let b = 0; b < batch; b++, nonce++) {
      for (let t = 0; t < T; t++) tokenIds[b * T + t] = (Math.imul(nonce * T + t + 1, 0x9e3779b1) >>> 0) & (V - 1);
      noiseValues.set(generateTensor(config, [nonce, 0x5eed], TensorId.inputNoise, GLOBAL_LAYER), b * T * d);
    }
    const tokens = tf.tensor1d(tokenIds, 'int32');
    const noise = tf.tensor2d(noiseValues, [batch * T, d]);
    const logits = model.logits(tokens, noise);
    const z = (await logits.data()) as Float32Array;
    const perm = new Int32Array(batch * V);
    for (let b = 0; b < batch; b++) {
      const row = z.subarray(b * V, (b + 1) * V);
      const mean = row.reduce((s, v) => s + v, 0) / V;
      const keys = outputPermutationKeys(fingerprint(row, mean), [first + b, 0x0ff1ce]);
      perm.set(permutationTable(vocabBits(config), keys), b * V);
    }
    const permutation = tf.tensor2d(perm, [batch, V], 'int32');
    const distances = model.distances(logits, permutation);
    await distances.data();
    tf.dispose([tokens, noise, logits, permutation, distances]);
    log(`  peer pass of ${batch} nonces: ${((performance.now() - started) / 1000).toFixed(2)} s`);
  };
  try {
    const modelMs = performance.now() - t0;
    // The warm-up pass compiles tfjs's shaders: setup is model creation plus that pass.
    const timing = await timeRepeated(async (times) => {
      for (let i = 0; i < times; i++) await pass();
    }, minSeconds);
    const setupMs = modelMs + timing.warmupSeconds * 1000;
    const nonceRate = timing.perSecond * batch;
    return { nonceRate, gflops: (nonceRate * flopsPerNonce) / 1e9, setupMs, timing, backend: tf.getBackend() };
  } finally {
    model.dispose();
  }
}
