/**
 * The peer half of `npm run bench:llm` (Node): onnxruntime-web's WebGPU EP on the ONNX export of
 * the same model folder (ort-peer.ts), timed by the same generate() loop on the same prompt, and
 * checked against the engine's logits so a fast-but-wrong peer cannot pass unnoticed.
 */
import { getGpu } from '../gpu/gpu-node.ts';
import { generate } from './generate.ts';
import { DirectorySource } from './node-source.ts';
import type { OnnxFloat } from './onnx-llama.ts';
import { installNodeShims, OrtPeerModel } from './ort-peer.ts';

export interface PeerBenchResult {
  /** What ran, e.g. "onnxruntime-web 1.30.0 WebGPU EP, float16 ONNX". */
  peer: string;
  peer_dtype: OnnxFloat;
  peer_load_ms: number;
  peer_prefill_tokens_per_s: number;
  peer_ttft_ms: number;
  peer_decode_tokens_per_s: number;
  /** max |peer − engine| over the prompt's last-position logits, over max |engine logit|. */
  peer_logit_rel_diff: number;
  /** Greedy tokens of both agree for this many leading positions (of decode_tokens). */
  peer_same_tokens: number;
}

export async function benchPeer(
  dir: string,
  prompt: number[],
  decodeTokens: number,
  engine: { lastLogits: ArrayLike<number>; tokens: readonly number[] },
  dtype: OnnxFloat,
  wasmPaths?: string,
): Promise<PeerBenchResult> {
  installNodeShims(await getGpu());
  const t0 = performance.now();
  const peer = await OrtPeerModel.load(new DirectorySource(dir), { dtype, maxContext: prompt.length + decodeTokens + 8, wasmPaths });
  const loadMs = performance.now() - t0;
  try {
    await generate(peer, prompt, { maxTokens: 3, eosTokenIds: [] });
    const prefillRuns: number[] = [];
    let lastLogits: Float32Array | null = null;
    for (let r = 0; r < 3; r++) {
      const cache = peer.createKvCache();
      const s = performance.now();
      lastLogits = (await peer.forward({ tokens: prompt, kvCache: cache })).logits as Float32Array;
      prefillRuns.push(performance.now() - s);
      peer.destroyKvCache(cache);
    }
    const run = await generate(peer, prompt, { maxTokens: decodeTokens, eosTokenIds: [] });
    let diff = 0;
    let scale = 1;
    const peerLogits = lastLogits!;
    if (peerLogits.length !== engine.lastLogits.length) throw new Error(`the peer gave ${peerLogits.length} logits, the engine ${engine.lastLogits.length}`);
    for (let i = 0; i < engine.lastLogits.length; i++) {
      diff = Math.max(diff, Math.abs(peerLogits[i]! - engine.lastLogits[i]!));
      scale = Math.max(scale, Math.abs(engine.lastLogits[i]!));
    }
    let same = 0;
    while (same < run.tokens.length && run.tokens[same] === engine.tokens[same]) same++;
    return {
      peer: `onnxruntime-web ${peer.version} WebGPU EP, ${dtype} ONNX (GroupQueryAttention, SkipSimplifiedLayerNormalization, MatMul)`,
      peer_dtype: dtype,
      peer_load_ms: loadMs,
      peer_prefill_tokens_per_s: (prompt.length / Math.min(...prefillRuns)) * 1000,
      peer_ttft_ms: run.timeToFirstTokenMs,
      peer_decode_tokens_per_s: run.decodeTokensPerSecond,
      peer_logit_rel_diff: diff / scale,
      peer_same_tokens: same,
    };
  } finally {
    await peer.destroy();
  }
}
