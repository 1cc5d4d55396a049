/**
 * FLOPs of running layers [fromLayer, toLayer) over positions [position, position + count), and the
 * LM head on the last of them: what a volunteer is credited for. A multiply-add is 2 FLOPs; norms,
 * RoPE, softmax and SiLU are left out (they are O(D) per position, under 1 % at any real size).
 * Per layer and position p (context p + 1):
 *   projections 2·D·(H·hd) [q] + 2·2·D·(G·hd) [k, v] + 2·(H·hd)·D [o] + 3·2·D·F [gate, up, down]
 *   attention   2·2·H·hd·(p + 1)  [q·k and p·v]
 * plus 2·D·V for the logits of the step's last position. Exact integers as bigint.
 */
import type { LlamaConfig } from '../llm/config.ts';

export function flopsForStep(c: LlamaConfig, fromLayer: number, toLayer: number, position: number, count: number): bigint {
  const D = BigInt(c.hiddenSize);
  const qDim = BigInt(c.numHeads * c.headDim);
  const kvDim = BigInt(c.numKvHeads * c.headDim);
  const F = BigInt(c.intermediateSize);
  const layers = BigInt(toLayer - fromLayer);
  const perPosition = 2n * D * qDim + 4n * D * kvDim + 2n * qDim * D + 6n * D * F;
  // Σ_{p = position}^{position + count − 1} (p + 1)
  const first = BigInt(position + 1);
  const n = BigInt(count);
  const contextSum = n * first + (n * (n - 1n)) / 2n;
  const attention = 4n * qDim * contextSum;
  const head = toLayer === c.numLayers ? 2n * D * BigInt(c.vocabSize) : 0n;
  return layers * (perPosition * n + attention) + head;
}
