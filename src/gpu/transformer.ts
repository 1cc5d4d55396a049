/**
 * SprintEngine: the Sprint task (docs/sprint-spec.md) on WebGPU.
 *
 *   sprint seed ──Philox on GPU──▶ resident weights (u8 codes or f16)
 *   (public key, nonce) ──SHA-256 on CPU──▶ tokens + noise key + output key ──upload──▶
 *   embed + input noise (Philox on GPU) → forward pass (B nonces per pass) ──▶ fused
 *   fingerprint → permutation keys → permute/centre/distance ──▶ B distances read back
 *
 * The same code runs in Node (pass `gpu` from ./gpu-node.ts) and in a browser Worker (navigator.gpu).
 */
import { getConfig, type SprintConfig } from '../sprint/config.ts';
import { FINGERPRINT_BITS } from '../sprint/fingerprint.ts';
import { checkSprintSeed, inputNoiseKey, inputSeed, outputKey, tokensFromInputSeed, weightKey } from '../sprint/seeds.ts';
import { TensorId } from '../sprint/weights.ts';
import { at } from '../sprint/indexing.ts';
import { autotune, defaultVariant, type TuneResult } from './autotune.ts';
import { DEFAULT_HIT_RATE, rTarget } from '../sprint/difficulty.ts';
import { runScreened, SCREEN_MAX_HELD, type ScreenCounts, type ScreenPass } from './screen.ts';
import { chooseScreen, confirmCapacity, type ScreenChoice } from './screen-choice.ts';
import { GpuDevice, type AdapterDescription } from './device.ts';
import { GpuError, formatBytes, isGpuError } from './errors.ts';
import { AbortWaiter, defaultBatch, uploadTarget } from './engine-helpers.ts';
import { assertSameSprint, CallQueue, checkTokens, measurePasses, NodeSeeds, planForward, runPipeline } from './engine-shared.ts';
import type { EngineOptions, ForwardOptions, ForwardResult, NonceInspection, PassProfile, ScreenInfo, SprintOptions, SprintResult } from './engine-types.ts';
import { Activations, Kernels, PlanBuilder, encodeSteps, type Step } from './forward.ts';
import { getGpu as getBrowserGpu } from './gpu-browser.ts';
import type { WeightFormat } from './shaders/common.wgsl.ts';
import { variantName, type MatmulVariant } from './shaders/matmul.wgsl.ts';
import { NONCE_KEY_WORDS, OUTPUT_INFO_WORDS } from './shaders/output.wgsl.ts';
import { WeightStore, planWeights } from './weight-store.ts';
import { collectInspection, inBatches, runSprintLoop } from './sprint-loop.ts';

export type { FoundNonce } from './errors.ts';
export { GpuError } from './errors.ts';
export type { MatmulVariant } from './shaders/matmul.wgsl.ts';
export type {
  BuildPhase,
  EngineOptions,
  ForwardOptions,
  ForwardResult,
  NonceInspection,
  PassProfile,
  ScreenInfo,
  SprintOptions,
  SprintProgress,
  SprintResult,
} from './engine-types.ts';

interface Slot {
  /** Nonces per pass of this slot (the engine's batch, or the confirmation capacity). */
  readonly capacity: number;
  readonly activations: Activations;
  readonly tokens: GPUBuffer;
  /** NONCE_KEY_WORDS per nonce: input-noise key (a0, a1), output key (b0, b1). */
  readonly nonceKeys: GPUBuffer;
  readonly distances: GPUBuffer;
  /** OUTPUT_INFO_WORDS per nonce, written by the output stage: fingerprint, permutation keys. */
  readonly info: GPUBuffer;
  readonly staging: GPUBuffer;
  /** Read back by `inspectNonces` only: a Sprint reads the distances alone. */
  readonly infoStaging: GPUBuffer;
  /** The whole pass, ending with the copy of the distances into `staging`. */
  readonly steps: Step[];
  /** The same pass without the layer steps (inputs, head, output stage): `profilePass`. */
  readonly outsideLayers: Step[];
  /** The f16 screen's pass (f16 layer matmuls, f32 elsewhere), copying distances and margins; null without a screen. */
  readonly screenSteps: Step[] | null;
}

interface PassRequest {
  /** Also read back each nonce's fingerprint and permutation keys. */
  readonly inspect?: boolean;
  /** Leave out the layer steps (timing only: the distances are meaningless). */
  readonly skipLayers?: boolean;
  /** Run the slot's f16 screen pass: distances and fingerprint margins, not to be counted. */
  readonly screen?: boolean;
}

interface PassResult {
  readonly distances: Float32Array;
  readonly info: Uint32Array | null;
  /** Screen passes: min_{j<128} |z_j − mean| per nonce. */
  readonly margins: Float32Array | null;
}

/** Two slots: batch n+1 is uploaded and queued while batch n runs, so the GPU never waits on the CPU. */
const SLOTS = 2;

export class SprintEngine {
  private readonly nodeSeeds = new NodeSeeds();
  private destroyed = false;
  /** Batches a finished call left in flight (abort, error): the next call waits for them. */
  private draining: Promise<unknown> = Promise.resolve();
  private readonly calls = new CallQueue(() => this.draining);

  private constructor(
    readonly config: SprintConfig,
    private readonly sprintSeed: Uint8Array,
    readonly device: GpuDevice,
    private readonly weights: WeightStore,
    private readonly kernels: Kernels,
    private readonly activations: Activations,
    private readonly plans: PlanBuilder,
    private readonly slots: Slot[],
    readonly tuning: TuneResult | null,
    /** The f32 pass that confirms the screen's candidates (null without a screen). */
    private readonly confirmSlot: Slot | null,
    private readonly screenChoice: ScreenChoice,
  ) {}

  /** Whether Sprints run the f16 screen, and why (capability and measured speed). */
  get screen(): ScreenInfo {
    const c = this.screenChoice;
    return {
      mode: c.mode,
      reason: c.reason,
      variant: c.variant ? variantName(c.variant) : null,
      projectedSpeedup: c.projectedSpeedup,
      margins: c.margins,
      confirmCapacity: this.confirmSlot?.capacity ?? 0,
      counts: { ...this.screenCounts },
    };
  }

  private readonly screenCounts: ScreenCounts = { screened: 0, confirmed: 0 };

  /** Nonces per pass. */
  get batch(): number {
    return this.activations.sequences;
  }

  get variant(): MatmulVariant {
    return this.kernels.variant;
  }

  get weightFormat(): WeightFormat {
    return this.kernels.variant.weightFormat;
  }

  get weightBytes(): number {
    return this.weights.bytes;
  }

  get adapter(): AdapterDescription {
    return this.device.adapter;
  }

  static async create(options: EngineOptions): Promise<SprintEngine> {
    const config = typeof options.config === 'string' ? getConfig(options.config) : options.config;
    checkSprintSeed(options.sprintSeed);
    if (config.dModel % 4 !== 0 || (config.dModel / config.heads) % 4 !== 0) {
      throw new GpuError('BAD_ARGUMENT', `config ${config.name}: d and the head dimension must be multiples of 4`);
    }
    if (config.vocab < FINGERPRINT_BITS) throw new GpuError('BAD_ARGUMENT', `config ${config.name}: the fingerprint needs V ≥ ${FINGERPRINT_BITS}`);
    const gpu = options.gpu === undefined ? await getBrowserGpu() : options.gpu;
    const dev = await GpuDevice.create(gpu, { memoryBudgetBytes: options.memoryBudgetBytes, onUncapturedError: options.onUncapturedError });
    try {
      return await SprintEngine.build(dev, config, options);
    } catch (e) {
      dev.destroy();
      throw e;
    }
  }

  private static async build(dev: GpuDevice, config: SprintConfig, options: EngineOptions): Promise<SprintEngine> {
    const progress = options.onProgress ?? (() => {});
    let tuning: TuneResult | null = null;
    let variant = options.variant ?? defaultVariant(dev.adapter);
    if (!options.variant && options.autotune !== false) {
      progress('autotune', 0);
      tuning = await autotune(dev, config, { cache: options.tuneCache });
      variant = tuning.variant;
      progress('autotune', 1);
    }
    const batch = options.batch ?? defaultBatch(config, dev, variant, tuning?.gflops ?? (dev.adapter.isFallback ? 1 : 1000));
    if (!Number.isInteger(batch) || batch < 1) throw new GpuError('BAD_ARGUMENT', `batch must be a positive integer, got ${batch}`);

    // Fail early, with the number, when the model cannot fit.
    const weightBytes = planWeights(config, variant.weightFormat, dev.limits, options.maxBindingBytes).totalBytes;
    const needed = weightBytes + Activations.bytes(config, batch, config.seqLen) + 4 * config.vocab;
    if (options.memoryBudgetBytes !== undefined && needed > options.memoryBudgetBytes) {
      throw new GpuError(
        'INSUFFICIENT_MEMORY',
        `the ${config.name} model needs ${formatBytes(needed)} of GPU memory (${formatBytes(weightBytes)} weights), the budget is ${formatBytes(options.memoryBudgetBytes)}`,
        { requiredBytes: needed },
      );
    }

    const sprintSeed = options.sprintSeed.slice();
    progress('weights', 0);
    const weights = await WeightStore.generate(dev, config, weightKey(sprintSeed), {
      format: variant.weightFormat,
      maxBindingBytes: options.maxBindingBytes,
      onProgress: (f) => progress('weights', f),
    });
    progress('compile', 0);
    const kernels = await Kernels.compile(dev, config, variant, (f) => progress('compile', f), options.outputMode);
    const tau = await uploadTarget(dev, config, weights);
    const screenChoice = await chooseScreen(dev, config, variant, tuning, options);
    const screenKernels = screenChoice.variant ? await Kernels.compile(dev, config, screenChoice.variant, undefined, kernels.outputMode) : null;
    const confirmRows = screenChoice.variant ? confirmCapacity(batch, variant, config) : 0;

    const { engine } = await dev.checked(
      'allocating activations',
      () => {
        const activations = new Activations(dev, config, batch, config.seqLen);
        const plans = new PlanBuilder(dev, config, kernels, weights);
        const screenPlans = screenKernels ? new PlanBuilder(dev, config, screenKernels, weights) : null;
        const slot = (label: string, acts: Activations, withScreen: boolean): Slot => {
          const cap = acts.sequences;
          const u32 = (name: string, n: number) => dev.createBuffer(`${name}-${label}`, 4 * n, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
          const out = (name: string, n: number) => dev.createBuffer(`${name}-${label}`, 4 * n, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
          const staged = (name: string, n: number) => dev.createBuffer(`${name}-${label}`, 4 * n, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
          const tokens = u32('tokens', cap * config.seqLen);
          const nonceKeys = u32('nonce-keys', cap * NONCE_KEY_WORDS);
          const distances = out('distances', 2 * cap); // d, then the fingerprint margins
          const info = out('output-info', cap * OUTPUT_INFO_WORDS);
          const staging = staged('staging', 2 * cap);
          const infoStaging = staged('info-staging', cap * OUTPUT_INFO_WORDS);
          const inputs = plans.embed(acts, tokens, nonceKeys);
          const layers = (p: PlanBuilder) => Array.from({ length: config.layers }, (_, l) => p.layer(acts, l, l === config.layers - 1)).flat();
          // The head stays f32 in the screen too: 0.09% of the work, and the logits feed the fingerprint.
          const tail: Step[] = [...plans.head(acts), ...plans.output(acts, nonceKeys, tau, distances, info)];
          const copy = (floats: number): Step => ({ kind: 'copy', src: distances, srcOffset: 0, dst: staging, dstOffset: 0, size: 4 * floats });
          return {
            capacity: cap,
            activations: acts,
            tokens,
            nonceKeys,
            distances,
            info,
            staging,
            infoStaging,
            steps: [...inputs, ...layers(plans), ...tail, copy(cap)],
            outsideLayers: [...inputs, ...tail, copy(cap)],
            screenSteps: withScreen && screenPlans ? [...inputs, ...layers(screenPlans), ...tail, copy(2 * cap)] : null,
          };
        };
        const slots = Array.from({ length: SLOTS }, (_, i) => slot(String(i), activations, true));
        const confirmSlot = confirmRows > 0 ? slot('confirm', new Activations(dev, config, confirmRows, config.seqLen), false) : null;
        return { engine: new SprintEngine(config, sprintSeed, dev, weights, kernels, activations, plans, slots, tuning, confirmSlot, screenChoice) };
      },
      Activations.bytes(config, batch, config.seqLen) + Activations.bytes(config, confirmRows, config.seqLen),
    );
    return engine;
  }

  /** Distances of `nonces` for the host `publicKey`, in order (spec §5–§7). */
  async evaluateNonces(publicKey: Uint8Array, nonces: readonly number[]): Promise<Float32Array> {
    const out = new Float32Array(nonces.length);
    let written = 0;
    await this.pipelined(publicKey, inBatches(nonces, this.batch), undefined, (_batch, { distances }) => {
      out.set(distances, written);
      written += distances.length;
    });
    return out;
  }

  /**
   * What the output stage computed for each nonce (validation, debugging): distances, the 128-bit
   * fingerprints (FINGERPRINT_WORDS per nonce) and the 8 permutation keys derived from them.
   */
  inspectNonces(publicKey: Uint8Array, nonces: readonly number[]): Promise<NonceInspection> {
    return collectInspection(nonces, this.batch, OUTPUT_INFO_WORDS, (next, onBatch) =>
      this.pipelined(publicKey, next, undefined, (batch, result) => onBatch(batch, result.distances, result.info!), { inspect: true }),
    );
  }

  /**
   * The f16 screen's own pass over `nonces` (measurements of its accuracy): distances, fingerprint
   * margins and fingerprints as the f16 pass saw them. Throws when the engine has no screen.
   */
  async inspectScreen(publicKey: Uint8Array, nonces: readonly number[]): Promise<ScreenPass & { fingerprints: Uint32Array }> {
    if (!this.confirmSlot) throw new GpuError('BAD_ARGUMENT', `this engine runs no f16 screen (${this.screenChoice.reason})`);
    const distances = new Float32Array(nonces.length);
    const margins = new Float32Array(nonces.length);
    const fingerprints = new Uint32Array(4 * nonces.length);
    let written = 0;
    await this.pipelined(
      publicKey,
      inBatches(nonces, this.batch),
      undefined,
      (batch, r) => {
        distances.set(r.distances, written);
        margins.set(r.margins!, written);
        batch.forEach((_, b) => fingerprints.set(r.info!.subarray(b * OUTPUT_INFO_WORDS, b * OUTPUT_INFO_WORDS + 4), 4 * (written + b)));
        written += batch.length;
      },
      { screen: true, inspect: true },
    );
    return { distances, margins, fingerprints };
  }

  /**
   * Times whole passes of B nonces one at a time (hash and upload on the CPU, GPU work, readback),
   * with and without the layer steps, interleaved so that load drift hits both alike. The pass
   * without layers is everything outside the layers: inputs with the noise generation, head,
   * output stage with fingerprint and keys, readback. Medians in milliseconds.
   */
  profilePass(publicKey: Uint8Array, options: { passes?: number; outsidePasses?: number } = {}): Promise<PassProfile> {
    return this.calls.run(() => {
      this.assertUsable();
      const hostSeed = this.nodeSeeds.of(publicKey);
      const nonces = Array.from({ length: this.batch }, (_, i) => i);
      return measurePasses(this.batch, options, (skipLayers) => this.submitBatch(at(this.slots, 0, 'slot'), hostSeed, nonces, { skipLayers }));
    });
  }

  /**
   * Evaluates consecutive nonces until the duration, maxNonces or the signal ends the Sprint.
   * On device loss, throws GpuError('DEVICE_LOST') whose details carry `found` and `nextNonce`.
   */
  async runSprint(options: SprintOptions): Promise<SprintResult> {
    assertSameSprint(this.sprintSeed, options.sprintSeed);
    const threshold = rTarget(this.config, options.hitRate ?? DEFAULT_HIT_RATE);
    return runSprintLoop(
      this.config,
      this.batch,
      options,
      (next, onBatch) =>
        this.confirmSlot
          ? this.screened(options.publicKey, next, options.signal, threshold, onBatch)
          : this.pipelined(options.publicKey, next, options.signal, (nonces, { distances }) => onBatch(nonces, distances)),
      (e, soFar) =>
        this.device.isLost || isGpuError(e, 'DEVICE_LOST')
          ? new GpuError('DEVICE_LOST', `GPU device lost during the Sprint after ${soFar.tried} nonces; resume from nonce ${soFar.nextNonce}`, {
              found: soFar.found,
              nextNonce: soFar.nextNonce,
              noncesTried: soFar.tried,
              cause: e,
            })
          : e,
    );
  }

  /**
   * A Sprint's batches through the f16 screen (./screen.ts): f16 passes in the two slots, the
   * candidates of each confirmed in f32 in the confirmation slot. Only f32 distances come out;
   * the nonces the screen rules out come out as +∞.
   */
  private screened(
    publicKey: Uint8Array,
    next: () => readonly number[] | null,
    signal: AbortSignal | undefined,
    threshold: number,
    onBatch: (nonces: readonly number[], distances: Float32Array) => void,
  ): Promise<void> {
    return this.calls.run(async () => {
      this.assertUsable();
      const hostSeed = this.nodeSeeds.of(publicKey);
      const confirmSlot = this.confirmSlot!;
      const pending: Promise<unknown>[] = [];
      let submitted = 0;
      const track = <T>(p: Promise<T>): Promise<T> => (pending.push(p), p);
      try {
        await runScreened({
          next,
          screen: (nonces) =>
            track(this.submitBatch(at(this.slots, submitted++ % SLOTS, 'slot'), hostSeed, nonces, { screen: true })).then((r): ScreenPass => ({
              distances: r.distances,
              margins: r.margins!,
            })),
          confirm: (nonces) => track(this.submitBatch(confirmSlot, hostSeed, nonces)).then((r) => r.distances),
          confirmCapacity: confirmSlot.capacity,
          onBatch,
          threshold,
          margins: this.screenChoice.margins,
          counts: this.screenCounts,
          signal,
          depth: SLOTS,
          maxHeld: SCREEN_MAX_HELD,
        });
      } finally {
        pending.forEach((p) => p.catch(() => {}));
        this.draining = Promise.allSettled(pending);
      }
    });
  }

  /**
   * Keeps up to SLOTS batches in flight; `onBatch` sees results in submission order. An abort
   * returns at once: batches still on the GPU are dropped (their nonces count as not tried).
   */
  private pipelined(
    publicKey: Uint8Array,
    next: () => readonly number[] | null,
    signal: AbortSignal | undefined,
    onBatch: (nonces: readonly number[], result: PassResult) => void,
    request: PassRequest = {},
  ): Promise<void> {
    return this.calls.run(async () => {
      this.assertUsable();
      const hostSeed = this.nodeSeeds.of(publicKey);
      const abort = new AbortWaiter(signal);
      try {
        await runPipeline({
          depth: SLOTS,
          next,
          submit: (nonces, index) => this.submitBatch(at(this.slots, index % SLOTS, 'slot'), hostSeed, nonces, request),
          settle: (pass) => abort.race(pass),
          onBatch,
          signal,
          left: (passes) => (this.draining = Promise.allSettled(passes)),
        });
      } finally {
        abort.dispose();
      }
    });
  }

  /**
   * One pass: per nonce, the input seed (SHA-256, spec §5) gives the tokens (bytes 0–15), the
   * input-noise key (16–23) and the output key (24–31); the GPU does the rest.
   */
  private async submitBatch(slot: Slot, hostSeed: Uint8Array, nonces: readonly number[], request: PassRequest = {}): Promise<PassResult> {
    const { seqLen } = this.config;
    if (nonces.length > slot.capacity) throw new GpuError('BAD_ARGUMENT', `a pass holds at most ${slot.capacity} nonces, got ${nonces.length}`);
    const tokens = new Uint32Array(slot.capacity * seqLen);
    const keys = new Uint32Array(slot.capacity * NONCE_KEY_WORDS);
    nonces.forEach((nonce, b) => {
      const seed = inputSeed(this.sprintSeed, hostSeed, nonce);
      tokens.set(tokensFromInputSeed(this.config, seed), b * seqLen);
      keys.set(inputNoiseKey(seed), b * NONCE_KEY_WORDS);
      keys.set(outputKey(seed), b * NONCE_KEY_WORDS + 2);
    });
    this.device.throwIfLost();
    this.device.queue.writeBuffer(slot.tokens, 0, tokens);
    this.device.queue.writeBuffer(slot.nonceKeys, 0, keys);
    const encoder = this.device.device.createCommandEncoder({ label: 'sprint-batch' });
    encodeSteps(encoder, request.screen ? slot.screenSteps! : request.skipLayers ? slot.outsideLayers : slot.steps);
    if (request.inspect) encoder.copyBufferToBuffer(slot.info, 0, slot.infoStaging, 0, slot.info.size);
    this.device.queue.submit([encoder.finish()]);
    await this.device.mapRead(slot.staging);
    // One mapped range (offsets must be multiples of 8): d at [0, n), the margins at [capacity, capacity + n).
    const mapped = new Float32Array(slot.staging.getMappedRange(0, 4 * (request.screen ? 2 * slot.capacity : nonces.length)));
    const distances = mapped.slice(0, nonces.length);
    const margins = request.screen ? mapped.slice(slot.capacity, slot.capacity + nonces.length) : null;
    slot.staging.unmap();
    let info: Uint32Array | null = null;
    if (request.inspect) {
      await this.device.mapRead(slot.infoStaging);
      info = new Uint32Array(slot.infoStaging.getMappedRange(0, 4 * OUTPUT_INFO_WORDS * nonces.length).slice(0));
      slot.infoStaging.unmap();
    }
    return { distances, info, margins };
  }

  /** Light inference: the forward pass over arbitrary sequences and layer ranges (split inference). */
  forward(options: ForwardOptions): Promise<ForwardResult> {
    return this.calls.run(() => this.forwardNow(options));
  }

  private async forwardNow(options: ForwardOptions): Promise<ForwardResult> {
    this.assertUsable();
    const { config, device: dev } = this;
    const { from, to, sequences, seqLen, capture } = planForward(config, options);

    const rowFloats = sequences * seqLen * config.dModel;
    const owned: GPUBuffer[] = [];
    const acts = await dev.checked(
      'allocating forward activations',
      () => new Activations(dev, config, sequences, seqLen),
      Activations.bytes(config, sequences, seqLen),
    );
    const plans = new PlanBuilder(dev, config, this.kernels, this.weights);
    try {
      const steps: Step[] = [];
      if (options.tokens) {
        const tokens = new Uint32Array(sequences * seqLen);
        options.tokens.forEach((seq, s) => tokens.set(checkTokens(config, seq), s * seqLen));
        const tokenBuffer = dev.createBuffer('forward-tokens', tokens.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
        owned.push(tokenBuffer);
        dev.queue.writeBuffer(tokenBuffer, 0, tokens);
        steps.push(...plans.embed(acts, tokenBuffer));
      } else {
        dev.queue.writeBuffer(acts.x, 0, options.hidden!.data, 0, rowFloats);
      }
      const captures =
        capture.length > 0 ? dev.createBuffer('captures', 4 * rowFloats * capture.length, GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC) : null;
      if (captures) owned.push(captures);
      for (let l = from; l < to; l++) {
        steps.push(...plans.layer(acts, l));
        const c = capture.indexOf(l);
        if (c >= 0) steps.push({ kind: 'copy', src: acts.x, srcOffset: 0, dst: captures!, dstOffset: 4 * rowFloats * c, size: 4 * rowFloats });
      }
      if (options.logits) steps.push(...plans.head(acts));
      const encoder = dev.device.createCommandEncoder({ label: 'forward' });
      encodeSteps(encoder, steps);
      dev.queue.submit([encoder.finish()]);
      const hidden = new Float32Array(await dev.read(acts.x, 0, 4 * rowFloats));
      const captured = new Map<number, Float32Array>();
      for (const [i, l] of capture.entries()) captured.set(l, new Float32Array(await dev.read(captures!, 4 * rowFloats * i, 4 * rowFloats)));
      const logits = options.logits ? new Float32Array(await dev.read(acts.logits, 0, 4 * sequences * config.vocab)) : undefined;
      return { hidden, captured, logits };
    } finally {
      plans.destroy();
      acts.destroy();
      owned.forEach((b) => dev.free(b));
    }
  }

  /** The stored bytes of one weight tensor (u8 format: the codes q of spec §4), e.g. to hash-check them. */
  async readWeights(id: (typeof TensorId)[keyof typeof TensorId], layer?: number): Promise<Uint8Array> {
    this.assertUsable();
    return this.weights.read(this.device, id, layer);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.plans.destroy();
    this.weights.destroy();
    this.activations.destroy();
    this.confirmSlot?.activations.destroy();
    this.device.destroy();
  }

  private assertUsable(): void {
    if (this.destroyed) throw new GpuError('BAD_ARGUMENT', 'engine destroyed');
    this.device.throwIfLost();
  }
}
