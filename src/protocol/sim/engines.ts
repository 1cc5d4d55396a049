/**
 * Engines for the simulation: the honest one runs the task on the CPU backend (src/cpu, on the
 * calling thread, so no turn of the virtual clock's event loop passes between a request and its
 * answer), or on the float64 reference (src/sprint/reference.ts) when asked; each cheater replaces
 * part of the work, with the reference. Every engine counts the nonces it really pushed through the
 * full model (`evaluated`), which the report divides weight by.
 */
import { CpuSprintEngine } from '../../cpu/engine.ts';
import { flopsPerNonce, vocabBits, type SprintConfig } from '../../sprint/config.ts';
import type { NonceClaim } from '../../sprint/claims.ts';
import { rTarget } from '../../sprint/difficulty.ts';
import { fingerprint, FINGERPRINT_BITS, FINGERPRINT_WORDS, outputPermutationKeys } from '../../sprint/fingerprint.ts';
import { permutationTable } from '../../sprint/permutation.ts';
import { evaluateNonces, logitMean, nonceInput, nonceKeys, outputDistance, ReferenceModel } from '../../sprint/reference.ts';
import { inputSeed, nodeSeed, outputKey } from '../../sprint/seeds.ts';
import { toHex } from '../../sprint/bytes.ts';
import type { EvaluateRequest, ProtocolEngine, SearchRequest, SearchResult } from '../interfaces.ts';
import type { Rng } from './loop.ts';

/** Which implementation computes honest distances: both agree within the spec's tolerance. */
export type SimBackend = 'cpu' | 'reference';

/** Keeps the `limit` most recently used values; `drop` releases an evicted one. */
class Recent<V> {
  private readonly map = new Map<string, V>();
  constructor(
    private readonly limit: number,
    private readonly drop: (v: V) => void = () => {},
  ) {}
  get(key: string, make: () => V): V {
    let v = this.map.get(key);
    if (v === undefined) {
      if (this.map.size >= this.limit) {
        const [oldKey, old] = this.map.entries().next().value!;
        this.map.delete(oldKey);
        this.drop(old);
      }
      v = make();
    } else {
      this.map.delete(key);
    }
    this.map.set(key, v);
    return v;
  }
}

/** One model per Sprint seed, shared by every simulated host (the weights are the same). */
export class ModelCache {
  private readonly references = new Recent<ReferenceModel>(8);
  private readonly engines = new Recent<CpuSprintEngine>(8, (e) => e.destroy());
  constructor(readonly backend: SimBackend = 'cpu') {}

  get(config: SprintConfig, seed: Uint8Array): ReferenceModel {
    return this.references.get(`${config.name}/${toHex(seed)}`, () => new ReferenceModel(config, seed, true));
  }

  cpu(config: SprintConfig, seed: Uint8Array): CpuSprintEngine {
    // A small batch: the simulation evaluates tens of nonces at a time, and a pass always runs a full batch.
    return this.engines.get(`${config.name}/${toHex(seed)}`, () => CpuSprintEngine.createSync({ config, sprintSeed: seed, batch: 16 }));
  }

  /** Honest distances of `nonces` for the host `publicKey`, in order. */
  distances(config: SprintConfig, seed: Uint8Array, publicKey: Uint8Array, nonces: readonly number[]): number[] {
    if (nonces.length === 0) return [];
    if (this.backend === 'cpu') return Array.from(this.cpu(config, seed).inspectNoncesSync(publicKey, nonces).distances);
    return evaluateNonces(config, seed, publicKey, nonces, this.get(config, seed)).map((x) => x.distance);
  }
}

export interface WorkCounters {
  /** Nonces run through the full model while searching. */
  evaluated: number;
  /** Nonces run through a reduced model (fewer layers). */
  partial: number;
  /** Nonces re-run for validation. */
  validated: number;
  /** Candidates scored by a cheap screen. */
  screened: number;
}

const zeroWork = (): WorkCounters => ({ evaluated: 0, partial: 0, validated: 0, screened: 0 });

const range = (start: number, n: number) => Array.from({ length: n }, (_, i) => start + i);

/** The honest engine: the whole task over `budget` nonces per Sprint, and for validation. */
export class HonestEngine implements ProtocolEngine {
  readonly work: WorkCounters = zeroWork();
  constructor(
    protected readonly models: ModelCache,
    /** Nonces per Sprint window (a simulated host's speed). */
    protected readonly budget: number,
  ) {}

  async search(req: SearchRequest): Promise<SearchResult> {
    const n = Math.max(0, this.budget - (req.startNonce > 0 ? req.startNonce : 0));
    const r = rTarget(req.config, req.hitRate);
    const nonces = range(req.startNonce, n);
    const distances = this.models.distances(req.config, req.seed, req.publicKey, nonces);
    this.work.evaluated += n;
    const found = nonces.map((nonce, i) => ({ nonce, distance: distances[i]! })).filter((x) => x.distance < r);
    req.onProgress?.({ newlyFound: found, nextNonce: req.startNonce + n, tried: n });
    return { found, tried: n, nextNonce: req.startNonce + n };
  }

  async evaluate(req: EvaluateRequest): Promise<number[]> {
    this.work.validated += req.nonces.length;
    return this.models.distances(req.config, req.seed, req.publicKey, req.nonces);
  }
}

/** `forged`: claims nonces it never evaluated, with made-up distances just under r_target. */
export class ForgedEngine extends HonestEngine {
  constructor(
    models: ModelCache,
    budget: number,
    private readonly rng: Rng,
  ) {
    super(models, budget);
  }
  override async search(req: SearchRequest): Promise<SearchResult> {
    const r = rTarget(req.config, req.hitRate);
    const count = Math.max(1, Math.round(this.budget * req.hitRate));
    const found: NonceClaim[] = range(0, count).map((i) => ({ nonce: 1_000_000 + i * 7 + this.rng.int(0, 6), distance: r * (1 - 0.02 * this.rng.next()) }));
    return { found, tried: this.budget, nextNonce: this.budget };
  }
}

/**
 * `fewer-layers`: the whitepaper's "simpler model" fraud. Searches (and validates) with only the
 * first L' = max(1, ⌊L/4⌋) layers, as src/audit/screens.ts `fewerLayers` defines L'.
 */
export class FewerLayersEngine extends HonestEngine {
  private cheap(config: SprintConfig, seed: Uint8Array, publicKey: Uint8Array, nonces: readonly number[]): number[] {
    const m = this.models.get(config, seed);
    const layers = Math.max(1, Math.floor(config.layers / 4));
    const ns = nodeSeed(publicKey);
    const seeds = nonces.map((n) => inputSeed(seed, ns, n));
    const finals = m.runLayers(
      seeds.map((s) => nonceInput(m, s).x),
      0,
      layers,
    );
    return finals.map((x, i) => {
      const logits = m.logits(x);
      return outputDistance(config, logits, nonceKeys(seeds[i]!, logits), m.target);
    });
  }
  override async search(req: SearchRequest): Promise<SearchResult> {
    const r = rTarget(req.config, req.hitRate);
    const nonces = range(req.startNonce, this.budget);
    const d = this.cheap(req.config, req.seed, req.publicKey, nonces);
    this.work.partial += nonces.length;
    const found = nonces.map((nonce, i) => ({ nonce, distance: d[i]! })).filter((c) => c.distance < r);
    return { found, tried: nonces.length, nextNonce: req.startNonce + nonces.length };
  }
  override async evaluate(req: EvaluateRequest): Promise<number[]> {
    this.work.partial += req.nonces.length;
    return this.cheap(req.config, req.seed, req.publicKey, req.nonces);
  }
}

/** `copier` and `withholder` search nothing themselves (the copier) or honestly (the withholder). */
export class IdleEngine extends HonestEngine {
  override async search(req: SearchRequest): Promise<SearchResult> {
    return { found: [], tried: 0, nextNonce: req.startNonce };
  }
}

/**
 * `screening`: the mean-output screen of src/audit/screens.ts (`meanScreen`, task-v2 issue attack
 * (a)), run per Sprint against the epoch's seed and this host's key. It evaluates `train` nonces
 * honestly, learns the mean centred logits (Knowledge.muZc) and the majority value of each
 * fingerprint bit (Knowledge.fpMajority), scores candidates by muZc · (target seen through the
 * permutation keyed by the guessed fingerprint), and runs the full model only on the best
 * `fraction` of them. In task version 2 the permutation depends on the nonce's real fingerprint,
 * so the screen should gain nothing.
 */
export class ScreeningEngine extends HonestEngine {
  constructor(
    models: ModelCache,
    budget: number,
    private readonly fraction = 0.25,
    private readonly train = 32,
  ) {
    super(models, budget);
  }

  override async search(req: SearchRequest): Promise<SearchResult> {
    const c = req.config;
    const m = this.models.get(c, req.seed);
    const r = rTarget(c, req.hitRate);
    const ns = nodeSeed(req.publicKey);
    const train = Math.min(this.train, this.budget);
    const trainNonces = range(req.startNonce, train);
    const found: NonceClaim[] = [];
    // Training: honest full passes (they count as work and may be claimed).
    const muZc = new Float64Array(c.vocab);
    const ones = new Float64Array(FINGERPRINT_BITS);
    for (const nonce of trainNonces) {
      const seed = inputSeed(req.seed, ns, nonce);
      const logits = m.logits(m.runLayers([nonceInput(m, seed).x], 0, c.layers)[0]!);
      const mean = logitMean(logits);
      for (let j = 0; j < c.vocab; j++) muZc[j]! += (logits[j]! - mean) / train; // both are vocab long
      const fp = fingerprint(logits, mean);
      for (let j = 0; j < FINGERPRINT_BITS; j++) ones[j]! += (fp[j >>> 5]! >>> (j & 31)) & 1;
      const distance = outputDistance(c, logits, nonceKeys(seed, logits), m.target);
      if (distance < r) found.push({ nonce, distance });
    }
    this.work.evaluated += train;
    const fpMajority = new Uint32Array(FINGERPRINT_WORDS);
    for (let j = 0; j < FINGERPRINT_BITS; j++) if (2 * ones[j]! > train) fpMajority[j >>> 5]! |= 1 << (j & 31);
    // Screening: score candidates without any forward pass.
    const selected = Math.max(0, this.budget - train);
    const candidates = range(req.startNonce + train, Math.ceil(selected / this.fraction));
    const perm = new Uint32Array(c.vocab);
    const tau = m.target.unit;
    const scored = candidates.map((nonce) => {
      const keys = outputPermutationKeys(fpMajority, outputKey(inputSeed(req.seed, ns, nonce)));
      permutationTable(vocabBits(c), keys, perm);
      let score = 0;
      for (let i = 0; i < c.vocab; i++) score += muZc[perm[i]!]! * tau[i]!;
      return { nonce, score };
    });
    this.work.screened += candidates.length;
    scored.sort((a, b) => b.score - a.score || a.nonce - b.nonce);
    const best = scored.slice(0, selected).map((s) => s.nonce);
    const distances = this.models.distances(c, req.seed, req.publicKey, best);
    this.work.evaluated += best.length;
    best.forEach((nonce, i) => distances[i]! < r && found.push({ nonce, distance: distances[i]! }));
    const next = req.startNonce + train + candidates.length;
    return { found, tried: train + best.length, nextNonce: next };
  }
}

/** Screen cost per candidate relative to one full pass (the permutation and a V-long dot product). */
export const screenCostRatio = (c: SprintConfig): number => (3 * c.vocab) / flopsPerNonce(c);

export const newWork = zeroWork;
