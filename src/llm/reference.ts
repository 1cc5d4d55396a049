/**
 * The CPU reference of the decoder forward pass in float64: what the WebGPU engine is tested
 * against. Same math as Hugging Face's LlamaForCausalLM / Qwen2ForCausalLM: RMSNorm (x / √(mean x² + ε)
 * · w), RoPE (rotate_half), grouped-query attention with a KV cache, SwiGLU MLP, residuals,
 * tied or untied LM head, optional biases. Weights are the checkpoint's values decoded exactly.
 */
import { checkLayerRange, expectedTensors, tensorNames, type LlamaConfig } from './config.ts';
import { decodeFloats } from './dtype.ts';
import { at } from '../sprint/indexing.ts';
import { LlmError } from './errors.ts';
import type { CausalLM, ForwardArgs, ForwardResult, KvCache } from './model-types.ts';
import { ropeTable } from './rope.ts';
import type { LoadedTensor } from './safetensors.ts';

export interface ReferenceKvCache extends KvCache {
  /** Per layer in the range: [maxContext, kvHeads·headDim]. */
  readonly k: Float64Array[];
  readonly v: Float64Array[];
}

export class ReferenceModel implements CausalLM<ReferenceKvCache> {
  private readonly w = new Map<string, Float64Array>();
  private rope: Float64Array = new Float64Array(0);

  /** `tensors`: decoded checkpoint tensors (any subset covering the layers that will run). */
  constructor(
    readonly config: LlamaConfig,
    tensors: ReadonlyMap<string, LoadedTensor>,
  ) {
    const expected = expectedTensors(config);
    for (const [name, t] of tensors) {
      if (!expected.has(name)) continue;
      const shape = expected.get(name)!;
      if (shape.join(',') !== t.info.shape.join(',')) {
        throw new LlmError('SHAPE_MISMATCH', `${name}: shape [${t.info.shape.join(', ')}], config.json says [${shape.join(', ')}]`);
      }
      this.w.set(name, decodeFloats(t.info.dtype, t.bytes, name));
    }
  }

  private weight(name: string): Float64Array {
    const w = this.w.get(name);
    if (!w) throw new LlmError('MISSING_TENSOR', `the reference model has no ${name}`);
    return w;
  }

  private ropeFor(positions: number): Float64Array {
    if (this.rope.length < positions * this.config.headDim) this.rope = ropeTable(this.config, Math.max(2 * positions, 64));
    return this.rope;
  }

  createKvCache(options: { fromLayer?: number; toLayer?: number; maxContext?: number } = {}): ReferenceKvCache {
    const c = this.config;
    const fromLayer = options.fromLayer ?? 0;
    const toLayer = options.toLayer ?? c.numLayers;
    checkLayerRange(c, fromLayer, toLayer);
    const maxContext = options.maxContext ?? Math.min(c.maxPositions, 512);
    const kvDim = c.numKvHeads * c.headDim;
    const n = toLayer - fromLayer;
    return {
      fromLayer,
      toLayer,
      maxContext,
      length: 0,
      k: Array.from({ length: n }, () => new Float64Array(maxContext * kvDim)),
      v: Array.from({ length: n }, () => new Float64Array(maxContext * kvDim)),
    };
  }

  async forward(args: ForwardArgs<ReferenceKvCache>): Promise<ForwardResult> {
    return this.forwardSync(args);
  }

  forwardSync(args: ForwardArgs<ReferenceKvCache>): ForwardResult {
    const c = this.config;
    const fromLayer = args.fromLayer ?? args.kvCache.fromLayer;
    const toLayer = args.toLayer ?? args.kvCache.toLayer;
    checkLayerRange(c, fromLayer, toLayer);
    const cache = args.kvCache;
    if (fromLayer < cache.fromLayer || toLayer > cache.toLayer) {
      throw new LlmError('BAD_ARGUMENT', `layers [${fromLayer}, ${toLayer}) are not all in the KV cache's [${cache.fromLayer}, ${cache.toLayer})`);
    }
    const D = c.hiddenSize;
    let x: Float64Array;
    let T: number;
    if (args.hidden) {
      if (args.hidden.length % D !== 0 || args.hidden.length === 0)
        throw new LlmError('BAD_ARGUMENT', `hidden has ${args.hidden.length} values, not a multiple of hidden_size ${D}`);
      T = args.hidden.length / D;
      x = Float64Array.from(args.hidden);
    } else {
      if (!args.tokens || args.tokens.length === 0) throw new LlmError('BAD_ARGUMENT', 'forward needs tokens or hidden');
      if (fromLayer !== 0) throw new LlmError('BAD_ARGUMENT', 'tokens enter at layer 0; pass hidden for a later layer');
      T = args.tokens.length;
      x = new Float64Array(T * D);
      const E = this.weight(tensorNames.embed);
      for (let t = 0; t < T; t++) {
        const tok = args.tokens[t];
        if (tok === undefined || !Number.isInteger(tok) || tok < 0 || tok >= c.vocabSize)
          throw new LlmError('BAD_ARGUMENT', `token ${tok} is outside the vocabulary [0, ${c.vocabSize})`);
        x.set(E.subarray(tok * D, (tok + 1) * D), t * D);
      }
    }
    const pos0 = cache.length;
    if (pos0 + T > cache.maxContext) throw new LlmError('CONTEXT_FULL', `the KV cache holds ${cache.maxContext} positions; ${pos0} used, ${T} more asked`);
    this.ropeFor(pos0 + T);
    for (let l = fromLayer; l < toLayer; l++) this.layer(l, x, T, pos0, cache);
    // The cache grows once per forward through its full range; a partial range leaves it to the caller's last range.
    if (toLayer === cache.toLayer) cache.length = pos0 + T;
    const result: { logits?: Float64Array; hidden?: Float64Array } = {};
    if (toLayer < c.numLayers || args.returnHidden) result.hidden = x;
    const wanted = args.logits ?? 'last';
    if (toLayer === c.numLayers && wanted !== 'none') {
      const rows = wanted === 'all' ? [...Array(T).keys()] : [T - 1];
      const head = this.weight(c.tieWordEmbeddings ? tensorNames.embed : tensorNames.lmHead);
      const normW = this.weight(tensorNames.norm);
      const V = c.vocabSize;
      const logits = new Float64Array(rows.length * V);
      if (head.length < V * D) throw new RangeError(`the LM head has ${head.length} values, ${V}×${D} needed`);
      rows.forEach((t, r) => {
        const h = rmsnorm(x.subarray(t * D, (t + 1) * D), normW, c.rmsNormEps);
        for (let v = 0; v < V; v++) logits[r * V + v] = dot(h, head, v * D, D);
      });
      result.logits = logits;
    }
    return result;
  }

  private layer(l: number, x: Float64Array, T: number, pos0: number, cache: ReferenceKvCache): void {
    const c = this.config;
    const n = tensorNames.layer(l);
    const D = c.hiddenSize;
    const H = c.numHeads;
    const G = c.numKvHeads;
    const hd = c.headDim;
    const half = hd / 2;
    const F = c.intermediateSize;
    const kc = at(cache.k, l - cache.fromLayer, 'KV cache key layer');
    const vc = at(cache.v, l - cache.fromLayer, 'KV cache value layer');
    const rope = this.rope;
    const filled = (pos0 + T) * G * hd;
    if (kc.length < filled || vc.length < filled || rope.length < (pos0 + T) * hd || x.length < T * D) {
      throw new RangeError(
        `layer ${l} over positions [${pos0}, ${pos0 + T}) needs ${filled} KV values, ${(pos0 + T) * hd} RoPE values and ${T * D} hidden values; got ${kc.length}/${vc.length}, ${rope.length} and ${x.length}`,
      );
    }
    // Past that check every index below stays inside its loop bounds: q and att are T×H×hd, the
    // caches hold pos0 + T positions of G×hd, rope pos0 + T rows of hd, x T rows of D; the weights'
    // shapes were checked against the config in the constructor and again by linear() and rmsnorm().
    const bias = (name: string, on: boolean): Float64Array | null => (on ? this.weight(name) : null);
    const wq = this.weight(n.q),
      wk = this.weight(n.k),
      wv = this.weight(n.v),
      wo = this.weight(n.o);
    const bq = bias(n.qBias, c.qkvBias),
      bk = bias(n.kBias, c.qkvBias),
      bv = bias(n.vBias, c.qkvBias),
      bo = bias(n.oBias, c.oBias);
    const q = new Float64Array(T * H * hd);
    for (let t = 0; t < T; t++) {
      const h = rmsnorm(x.subarray(t * D, (t + 1) * D), this.weight(n.inputNorm), c.rmsNormEps);
      const pos = pos0 + t;
      const qt = linear(h, wq, bq, H * hd, D);
      const kt = linear(h, wk, bk, G * hd, D);
      const vt = linear(h, wv, bv, G * hd, D);
      const rot = (vec: Float64Array, head: number): void => {
        const o = head * hd;
        for (let i = 0; i < half; i++) {
          const cos = rope[pos * hd + i]!;
          const sin = rope[pos * hd + half + i]!;
          const a = vec[o + i]!;
          const b = vec[o + half + i]!;
          vec[o + i] = a * cos - b * sin;
          vec[o + half + i] = b * cos + a * sin;
        }
      };
      for (let a = 0; a < H; a++) rot(qt, a);
      for (let g = 0; g < G; g++) rot(kt, g);
      q.set(qt, t * H * hd);
      kc.set(kt, pos * G * hd);
      vc.set(vt, pos * G * hd);
    }
    const att = new Float64Array(T * H * hd);
    const scale = 1 / Math.sqrt(hd);
    const group = H / G;
    for (let t = 0; t < T; t++) {
      const last = pos0 + t;
      for (let a = 0; a < H; a++) {
        const g = Math.floor(a / group);
        const scores = new Float64Array(last + 1);
        let max = -Infinity;
        for (let u = 0; u <= last; u++) {
          let s = 0;
          for (let i = 0; i < hd; i++) s += q[t * H * hd + a * hd + i]! * kc[u * G * hd + g * hd + i]!;
          scores[u] = s * scale;
          if (s * scale > max) max = s * scale;
        }
        let total = 0;
        for (let u = 0; u <= last; u++) total += scores[u] = Math.exp(scores[u]! - max);
        for (let u = 0; u <= last; u++) {
          const p = scores[u]! / total;
          for (let i = 0; i < hd; i++) att[t * H * hd + a * hd + i]! += p * vc[u * G * hd + g * hd + i]!;
        }
      }
    }
    const wg = this.weight(n.gate),
      wu = this.weight(n.up),
      wd = this.weight(n.down);
    const bg = bias(n.gateBias, c.mlpBias),
      bu = bias(n.upBias, c.mlpBias),
      bd = bias(n.downBias, c.mlpBias);
    for (let t = 0; t < T; t++) {
      const xt = x.subarray(t * D, (t + 1) * D);
      const o = linear(att.subarray(t * H * hd, (t + 1) * H * hd), wo, bo, D, H * hd);
      for (let i = 0; i < D; i++) xt[i]! += o[i]!;
      const h = rmsnorm(xt, this.weight(n.postNorm), c.rmsNormEps);
      const gate = linear(h, wg, bg, F, D);
      const up = linear(h, wu, bu, F, D);
      for (let i = 0; i < F; i++) {
        const g = gate[i]!;
        gate[i] = (g / (1 + Math.exp(-g))) * up[i]!;
      }
      const down = linear(gate, wd, bd, D, F);
      for (let i = 0; i < D; i++) xt[i]! += down[i]!;
    }
  }
}

/** Callers check a.length >= n and w.length >= offset + n. */
function dot(a: Float64Array, w: Float64Array, offset: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i]! * w[offset + i]!;
  return s;
}

/** y = W·x (+ b), W [out, in] row-major. */
function linear(x: Float64Array, w: Float64Array, b: Float64Array | null, out: number, inp: number): Float64Array {
  if (x.length < inp || w.length < out * inp || (b !== null && b.length < out)) {
    throw new RangeError(`linear ${out}×${inp} got ${x.length} inputs, ${w.length} weights and ${b?.length ?? 'no'} biases`);
  }
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) y[o] = dot(x, w, o * inp, inp) + (b ? b[o]! : 0);
  return y;
}

function rmsnorm(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  if (w.length < x.length) throw new RangeError(`rmsnorm of ${x.length} values got ${w.length} weights`);
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i]! * x[i]!;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! * inv * w[i]!;
  return out;
}
