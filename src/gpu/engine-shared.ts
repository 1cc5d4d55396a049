/**
 * What the WebGPU SprintEngine (./transformer.ts) and the CPU engine (../cpu/engine.ts) share outside
 * their compute: argument checks, the profilePass measurement and the node-seed cache. One copy, so
 * the two engines that are tested against each other also refuse the same inputs. No device code
 * here: the CPU engine's bundle must not pull in WebGPU.
 */
import type { SprintConfig } from '../sprint/config.ts';
import { at } from '../sprint/indexing.ts';
import { nodeSeed } from '../sprint/seeds.ts';
import type { ForwardOptions, PassProfile } from './engine-types.ts';
import { GpuError } from './errors.ts';

export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** An engine holds the weights of one Sprint: a Sprint for another seed needs another engine. */
export function assertSameSprint(held: Uint8Array, asked: Uint8Array | undefined): void {
  if (asked && !equalBytes(asked, held)) {
    throw new GpuError('BAD_ARGUMENT', 'this engine holds the weights of another Sprint: create an engine for this sprint seed');
  }
}

export interface ForwardPlan {
  readonly from: number;
  readonly to: number;
  readonly sequences: number;
  readonly seqLen: number;
  /** The captured layers, unique and ascending. */
  readonly capture: readonly number[];
}

/**
 * Checks a forward call's layer range, input shape and captures (not the token values: checkTokens).
 * Token sequences are at most config.seqLen long (the position embeddings); hidden states only as
 * long as the engine's memory allows (`maxHiddenLen`: the GPU's attention takes any length).
 */
export function planForward(config: SprintConfig, options: ForwardOptions, maxHiddenLen = Infinity): ForwardPlan {
  const from = options.fromLayer ?? 0;
  const to = options.toLayer ?? config.layers;
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= config.layers)) {
    throw new GpuError('BAD_ARGUMENT', `layer range [${from}, ${to}) outside [0, ${config.layers}]`);
  }
  const { sequences, seqLen } = forwardShape(config, options, maxHiddenLen);
  const capture = [...new Set(options.capture ?? [])].sort((a, b) => a - b);
  if (capture.some((l) => l < from || l >= to)) throw new GpuError('BAD_ARGUMENT', `captured layers must lie in [${from}, ${to})`);
  return { from, to, sequences, seqLen, capture };
}

function forwardShape(config: SprintConfig, options: ForwardOptions, maxHiddenLen: number): { sequences: number; seqLen: number } {
  if (options.tokens && options.hidden) throw new GpuError('BAD_ARGUMENT', 'give tokens or hidden, not both');
  if (options.tokens) {
    const seqLen = options.tokens[0]?.length ?? 0;
    if (options.tokens.length === 0 || seqLen < 1 || seqLen > config.seqLen || options.tokens.some((t) => t.length !== seqLen)) {
      throw new GpuError('BAD_ARGUMENT', `tokens: one or more sequences of one common length in 1..${config.seqLen}`);
    }
    return { sequences: options.tokens.length, seqLen };
  }
  const h = options.hidden;
  if (!h || h.sequences < 1 || h.seqLen < 1 || h.seqLen > maxHiddenLen || h.data.length < h.sequences * h.seqLen * config.dModel) {
    throw new GpuError('BAD_ARGUMENT', `hidden: data of [sequences, seqLen${Number.isFinite(maxHiddenLen) ? ` ≤ ${maxHiddenLen}` : ''}, d] floats`);
  }
  return { sequences: h.sequences, seqLen: h.seqLen };
}

export function checkTokens(config: SprintConfig, seq: Uint32Array | readonly number[]): Uint32Array {
  for (const t of seq) {
    if (!Number.isInteger(t) || t < 0 || t >= config.vocab) throw new GpuError('BAD_ARGUMENT', `token ${t} outside the vocabulary 0..${config.vocab - 1}`);
  }
  return Uint32Array.from(seq);
}

/**
 * Times `pass` (one whole pass of `batch` nonces) with and without the layers, interleaved so that
 * load drift hits both alike; medians in milliseconds. The first pass only warms the buffers up.
 */
export async function measurePasses(
  batch: number,
  options: { passes?: number; outsidePasses?: number },
  pass: (skipLayers: boolean) => Promise<unknown>,
): Promise<PassProfile> {
  const passes = Math.max(1, options.passes ?? 3);
  const outsidePasses = Math.max(passes, options.outsidePasses ?? passes);
  const time = async (skipLayers: boolean) => {
    const t = performance.now();
    await pass(skipLayers);
    return performance.now() - t;
  };
  await time(true);
  const full: number[] = [];
  const outside: number[] = [];
  for (let i = 0; i < outsidePasses; i++) {
    if (i < passes) full.push(await time(false));
    outside.push(await time(true));
  }
  const median = (xs: number[]) =>
    at(
      xs.sort((a, b) => a - b),
      Math.floor(xs.length / 2),
      'timed pass',
    );
  const passMs = median(full);
  const outsideLayersMs = median(outside);
  return { batch, passMs, outsideLayersMs, outsideLayersShare: outsideLayersMs / passMs, passes, outsidePasses };
}

/**
 * An engine's calls run one after another (they share slots and activations), and each waits too
 * for the work the previous one left running (`leftover`: an aborted call's passes still in flight).
 */
export class CallQueue {
  private last: Promise<unknown> = Promise.resolve();

  constructor(private readonly leftover: () => Promise<unknown>) {}

  run<T>(call: () => Promise<T>): Promise<T> {
    const result = this.last.then(call, call);
    const settled = () => this.leftover();
    this.last = result.then(settled, settled).catch(() => undefined);
    return result;
  }
}

/** The node seed of each public key, hashed once per engine (spec §5). */
export class NodeSeeds {
  private readonly seeds = new Map<string, Uint8Array>();

  of(publicKey: Uint8Array): Uint8Array {
    const id = Array.from(publicKey ?? [], (b) => b.toString(16).padStart(2, '0')).join('');
    let seed = this.seeds.get(id);
    if (!seed) {
      seed = nodeSeed(publicKey);
      this.seeds.set(id, seed);
    }
    return seed;
  }
}

export interface Pipeline<P, R> {
  /** Passes in flight at once (the engine's slots). */
  readonly depth: number;
  readonly next: () => readonly number[] | null;
  /** Starts the pass of `nonces`; `index` counts the passes started (the slot is index mod depth). */
  readonly submit: (nonces: readonly number[], index: number) => Promise<P>;
  /** A started pass's result, or null to stop here (the signal aborted). */
  readonly settle: (pass: Promise<P>) => Promise<R | null>;
  readonly onBatch: (nonces: readonly number[], result: R) => void;
  readonly signal: AbortSignal | undefined;
  /** Told the passes still in flight when the pipeline stops (abort, error), which the next call must wait for. */
  readonly left?: (passes: Promise<P>[]) => void;
}

/**
 * Keeps up to `depth` passes in flight (pass n+1 is prepared while pass n computes); `onBatch` sees
 * results in submission order. After an abort nothing more is started, and what is in flight is
 * dropped (its nonces count as not tried).
 */
export async function runPipeline<P, R>({ depth, next, submit, settle, onBatch, signal, left }: Pipeline<P, R>): Promise<void> {
  const inflight: { nonces: readonly number[]; pass: Promise<P> }[] = [];
  let submitted = 0;
  const completeOldest = async (): Promise<boolean> => {
    const oldest = at(inflight, 0, 'batch in flight');
    const result = await settle(oldest.pass);
    if (result === null) return false;
    inflight.shift();
    onBatch(oldest.nonces, result);
    return true;
  };
  try {
    for (;;) {
      if (inflight.length === depth && !(await completeOldest())) return;
      if (signal?.aborted) break;
      const nonces = next();
      if (!nonces || nonces.length === 0) break;
      inflight.push({ nonces, pass: submit(nonces, submitted++) });
    }
    while (inflight.length > 0) if (!(await completeOldest())) return;
  } finally {
    inflight.forEach((f) => f.pass.catch(() => {}));
    left?.(inflight.map((f) => f.pass));
  }
}
