/**
 * The attack suite (docs/sprint-audit.md): each known shortcut is run against the task, and its
 * appropriate nonces per unit of work (FLOPs as the spec counts them) are compared with the honest
 * engine's. The honest rate is p by construction; the calibration block checks that it is.
 */
import type { SprintConfig } from '../sprint/config.ts';
import { FINGERPRINT_BITS } from '../sprint/fingerprint.ts';
import type { TaskVersion } from '../sprint/seeds.ts';
import { learn, type Knowledge } from './knowledge.ts';
import { SCREENS, type Candidate, type Screen } from './screens.ts';
import { binomialInterval, proportionInterval } from './stats.ts';
import { AuditWorld, lastNormed, roundToBits, sameFingerprint, type Evaluated, type HonestPasses } from './world.ts';

export interface AuditOptions {
  config: SprintConfig;
  version: TaskVersion;
  /** Baseline nonces evaluated honestly (calibration, oracle gains, deciles, low precision, caches). */
  nonces: number;
  /** Nonces the attacker learns from. */
  train: number;
  /** Nonces each screen passes on to a full forward pass. */
  selected: number;
  fractions: readonly number[];
  /** Screens to run (default: all that the config allows). */
  screens?: readonly string[];
  /** Skip the attacks that need a full pass per baseline nonce at low precision. */
  skipLowPrecision?: boolean;
  /** Nonces the pair-grinding attack tries against its cache (default 200,000). */
  grind?: number;
  /** Honest passes on a faster engine (the CPU backend); default: the float64 reference. */
  passes?: HonestPasses;
  onProgress?: (message: string) => void;
}

export interface AttackResult {
  name: string;
  fraction: number;
  advantage: number;
  ci_low: number;
  ci_high: number;
  /** How the interval was obtained (docs/sprint-audit.md, "Estimators"). */
  method: 'hits' | 'fingerprint' | 'paired' | 'exact';
  [detail: string]: unknown;
}

export interface AuditReport {
  spec_version: TaskVersion;
  config: string;
  nonces: number;
  train: number;
  selected: number;
  calibration: { nonces: number; hits: number; expected: number; interval: [number, number]; within: boolean };
  deciles: Array<{ screen: string; hits: number[]; interval: [number, number]; within: boolean }>;
  /** Version 2: how close the best constant guess (each bit's majority value) comes to real fingerprints. */
  fingerprint_guess?: {
    per_bit_accuracy_mean: number;
    per_bit_accuracy_max: number;
    log2_chance_if_independent: number;
    min_hamming: number;
    exact: number;
    nonces: number;
  };
  attacks: AttackResult[];
  seconds: number;
}

/** Assumed cost of the two SHA-256 blocks that derive one input seed, in FLOP-equivalents. */
export const SHA256_OPS = 5120;
/** The attacker's prefix cache: at most this many (token_0, token_1) pairs (8 GiB of canonical K/V in f16). */
export const PAIR_CACHE = 65_536;
/** f16 screen: candidates within this distance margin above r_target are confirmed at full precision. */
export const LOW_PRECISION_MARGIN = 0.02;

const range = (start: number, count: number) => Array.from({ length: count }, (_, i) => start + i);

export function runAudit(o: AuditOptions): AuditReport {
  const unknown = o.screens?.find((name) => !SCREENS.some((s) => s.name === name));
  if (unknown !== undefined) throw new RangeError(`there is no screen '${unknown}' (the screens: ${SCREENS.map((s) => s.name).join(', ')})`);
  const started = Date.now();
  const log = o.onProgress ?? (() => {});
  const world = new AuditWorld(o.config, o.version, o.passes);
  const small = o.config.seqLen * o.config.dModel <= 1024;
  const screens = SCREENS.filter((s) => (o.screens ? o.screens.includes(s.name) : s.name !== 'linear-predictor' || small));

  log(`training on ${o.train} nonces`);
  const trainNonces = range(0, o.train);
  const knowledge = learn(
    world,
    world.evaluate(trainNonces),
    trainNonces,
    screens.some((s) => s.name === 'linear-predictor'),
  );

  log(`baseline: ${o.nonces} honest nonces`);
  const partial = Math.max(...screens.map((s) => s.partialLayers(world)), 0);
  const baseNonces = range(o.train, o.nonces);
  const baseline = world.evaluate(baseNonces, { partialLayers: partial }, (n) => n % 20_000 < 512 && log(`baseline ${n}/${o.nonces}`));
  const hits = baseline.filter((e) => e.hit).length;
  const interval = binomialInterval(o.nonces, world.p);
  const report: AuditReport = {
    spec_version: o.version,
    config: o.config.name,
    nonces: o.nonces,
    train: o.train,
    selected: o.selected,
    calibration: { nonces: o.nonces, hits, expected: o.nonces * world.p, interval, within: hits >= interval[0] && hits <= interval[1] },
    deciles: [],
    attacks: [],
    seconds: 0,
  };

  if (o.version === 2) report.fingerprint_guess = fingerprintGuess(knowledge, baseline);
  screens.forEach((screen, index) => {
    const onBaseline = scoreBaseline(world, knowledge, screen, baseline);
    if (o.version === 2) report.deciles.push(deciles(screen.name, onBaseline.predicted, baseline, world.p));
    for (const fraction of o.fractions) {
      log(`${screen.name} at fraction ${fraction}`);
      report.attacks.push(runScreen(world, knowledge, screen, fraction, o, index, onBaseline.oracle, baseline));
    }
  });
  report.attacks.push(...prefixCaches(world, baseline, o.train + o.nonces, o.grind ?? 200_000));
  if (!o.skipLowPrecision) {
    log('low-precision screen (f16 activations)');
    report.attacks.push(lowPrecision(world, baseNonces, baseline));
  }
  report.seconds = (Date.now() - started) / 1000;
  return report;
}

function fingerprintGuess(k: Knowledge, baseline: readonly Evaluated[]): NonNullable<AuditReport['fingerprint_guess']> {
  const bit = (fp: Uint32Array, j: number) => (fp[j >>> 5]! >>> (j & 31)) & 1;
  const accuracy = range(0, FINGERPRINT_BITS).map((j) => baseline.filter((e) => bit(e.fp, j) === bit(k.fpMajority, j)).length / baseline.length);
  const hamming = baseline.map((e) => range(0, FINGERPRINT_BITS).filter((j) => bit(e.fp, j) !== bit(k.fpMajority, j)).length);
  return {
    per_bit_accuracy_mean: accuracy.reduce((s, a) => s + a, 0) / accuracy.length,
    per_bit_accuracy_max: Math.max(...accuracy),
    log2_chance_if_independent: accuracy.reduce((s, a) => s + Math.log2(a), 0),
    min_hamming: Math.min(...hamming),
    exact: hamming.filter((h) => h === 0).length,
    nonces: baseline.length,
  };
}

/** Hits among the top `fraction` of nonces by score, relative to fraction·N·p. */
function gainAt(scores: Float64Array, baseline: readonly Evaluated[], fraction: number, p: number) {
  const top = topIndices(scores, Math.max(1, Math.round(fraction * scores.length)));
  const hits = top.filter((i) => baseline[i]!.hit).length;
  const [lo, hi] = proportionInterval(hits, top.length);
  return { gain: hits / (top.length * p), low: lo / p, high: hi / p, hits, count: top.length };
}

function topIndices(scores: Float64Array, count: number): number[] {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]!);
  return order.slice(0, count);
}

/** Screen scores of the baseline nonces: with the screen's own guessed permutation, and with the true one (oracle). */
function scoreBaseline(world: AuditWorld, k: Knowledge, screen: Screen, baseline: readonly Evaluated[]) {
  const predicted = new Float64Array(baseline.length);
  const oracle = new Float64Array(baseline.length);
  baseline.forEach((e, i) => {
    const seed = world.seed(e.nonce);
    const prep = screen.prepare(world, k, { seed, partial: e.partial });
    const trueKeys = world.keys(seed, e.fp);
    oracle[i] = prep.score(trueKeys);
    predicted[i] = world.version === 1 ? oracle[i]! : prep.score(world.keys(seed, prep.fp));
  });
  return { predicted, oracle };
}

/** Calibration within each decile of a screen's score: hits must stay inside the 99.9% interval. */
function deciles(name: string, scores: Float64Array, baseline: readonly Evaluated[], p: number) {
  const order = Array.from(scores.keys()).sort((a, b) => scores[a]! - scores[b]!);
  const size = Math.floor(order.length / 10);
  const hits = range(0, 10).map((d) => order.slice(d * size, (d + 1) * size).filter((i) => baseline[i]!.hit).length);
  const interval = binomialInterval(size, p);
  return { screen: name, hits, interval, within: hits.every((h) => h >= interval[0] && h <= interval[1]) };
}

function runScreen(
  world: AuditWorld,
  k: Knowledge,
  screen: Screen,
  fraction: number,
  o: AuditOptions,
  index: number,
  oracleScores: Float64Array,
  baseline: readonly Evaluated[],
): AttackResult {
  const expensive = screen.partialLayers(world) > 0;
  const selected = Math.max(10, Math.round(expensive ? o.selected / 10 : o.selected));
  const count = Math.round(selected / fraction);
  const first = 1_000_000_000 * (index + 1) + 10_000_000 * Math.round(fraction * 1000);
  const scores = new Float64Array(count);
  const guesses: Uint32Array[] = [];
  const batch = 256;
  for (let start = 0; start < count; start += batch) {
    const nonces = range(first + start, Math.min(batch, count - start));
    const seeds = nonces.map((n) => world.seed(n));
    const partials = expensive ? partialStates(world, seeds, screen.partialLayers(world)) : [];
    seeds.forEach((seed, i) => {
      const candidate: Candidate = { seed, partial: partials[i] };
      const prep = screen.prepare(world, k, candidate);
      scores[start + i] = prep.score(world.version === 1 ? world.keys(seed) : world.keys(seed, prep.fp));
      guesses[start + i] = prep.fp;
    });
  }
  const top = topIndices(scores, selected);
  const evaluated = world.evaluate(top.map((i) => first + i));
  const hits = evaluated.filter((e) => e.hit).length;
  const matches = evaluated.filter((e, j) => sameFingerprint(e.fp, guesses[top[j]!]!)).length;
  // Work per selected nonce: its full pass plus the screening of 1/fraction candidates.
  const workFactor = 1 / (1 + screen.cost(world) / (fraction * world.passFlops));
  const [hitLow, hitHigh] = proportionInterval(hits, selected);
  const empirical = {
    hits,
    expected: selected * world.p,
    advantage: (hits / (selected * world.p)) * workFactor,
    ci_low: (hitLow / world.p) * workFactor,
    ci_high: (hitHigh / world.p) * workFactor,
  };
  const base = { name: screen.name, fraction, selected, screened: count, screen_cost: screen.cost(world) / world.passFlops };
  if (world.version === 1)
    return {
      ...base,
      advantage: empirical.advantage,
      ci_low: empirical.ci_low,
      ci_high: empirical.ci_high,
      method: 'hits',
      hits,
      expected: empirical.expected,
    };
  // Version 2: a selected nonce whose fingerprint the screen guessed right is screened as well as
  // with a known permutation (the oracle gain on the baseline); any other nonce's permutation is
  // unknown to the screen, so it hits with probability p (the deciles check this).
  const oracle = gainAt(oracleScores, baseline, fraction, world.p);
  const [qLow, qHigh] = proportionInterval(matches, selected);
  const mix = (q: number, g: number) => (1 + q * (g - 1)) * workFactor;
  const corners = [mix(qLow, oracle.low), mix(qLow, oracle.high), mix(qHigh, oracle.low), mix(qHigh, oracle.high)];
  return {
    ...base,
    advantage: mix(matches / selected, oracle.gain),
    ci_low: Math.min(...corners),
    ci_high: Math.max(...corners),
    method: 'fingerprint',
    fingerprint_matches: matches,
    oracle_gain: oracle.gain,
    oracle_ci: [oracle.low, oracle.high],
    empirical,
  };
}

function partialStates(world: AuditWorld, seeds: readonly Uint8Array[], layers: number): Float64Array[] {
  return world.model
    .runLayers(
      seeds.map((s) => world.input(s)),
      0,
      layers,
    )
    .map((x) => lastNormed(x, world.config.dModel));
}

/** 64-bit FNV-1a of a row's float64 bytes: equal rows, equal keys; a false match needs a 2^-64 accident. */
function rowKey(x: Float64Array, t: number, d: number): string {
  const bytes = new Uint8Array(x.buffer, x.byteOffset + 8 * t * d, 8 * d);
  let lo = 0x84222325;
  let hi = 0xcbf29ce4;
  for (const b of bytes) {
    lo = (lo ^ b) >>> 0;
    // (hi, lo) · 0x100000001b3 mod 2^64
    const loProduct = lo * 0x1b3;
    const carry = Math.floor(loProduct / 2 ** 32);
    hi = (Math.imul(hi, 0x1b3) + Math.imul(lo, 0x100) + carry) >>> 0;
    lo = loProduct >>> 0;
  }
  return hi.toString(16) + ':' + lo.toString(16);
}

/**
 * d. Prefix caches. Position t's layer states depend only on x_0 … x_t, so a host that has seen
 * x_0 (or x_0 and x_1) before can skip that position's counted FLOPs. Version 1's x_t depended on
 * token_t alone; version 2 adds per-nonce noise. Counts are measured on real nonces.
 */
export function prefixCaches(world: AuditWorld, baseline: readonly Evaluated[], grindStart: number, ground: number): AttackResult[] {
  const { dModel: d, vocab: V } = world.config;
  const share = world.positionFlops / world.passFlops;
  const tokenRows = new Set(range(0, V).map((t) => rowKey(world.model.embed(Uint32Array.of(t)), 0, d)));
  const seen = new Set<string>();
  let reused = 0;
  for (const e of baseline) {
    const key = rowKey(world.input(world.seed(e.nonce)), 0, d);
    if (tokenRows.has(key) || seen.has(key)) reused++;
    seen.add(key);
  }
  const n = baseline.length;
  // A cached input pins token_0 (log2 V bits) and, in version 2, the 64-bit noise key: no cache of
  // C inputs is hit by a fresh nonce more often than C / 2^bits. The interval uses the tighter of
  // that bound and the Clopper–Pearson bound of the count.
  const noiseBits = world.version === 2 ? 64 : 0;
  const [rLow, rHigh] = proportionInterval(reused, n);
  const reuseBound = Math.min(1, (V + n) / 2 ** (world.bits + noiseBits));
  const single = (r: number) => 1 / (1 - r * share);
  const position0: AttackResult = {
    name: 'prefix-cache-position-0',
    fraction: 1,
    advantage: single(reused / n),
    ci_low: single(rLow),
    ci_high: single(Math.max(reused / n, Math.min(rHigh, reuseBound))),
    method: 'exact',
    reused,
    nonces: n,
    saved_share: share,
    reuse_bound: reuseBound,
  };
  // Pairs: the attacker precomputes PAIR_CACHE (token_0, token_1) pairs and grinds nonces for them.
  const pairs = Math.min(PAIR_CACHE, V * V);
  const cached = new Set<string>();
  for (let i = 0; i < pairs; i++) {
    const x = world.model.embed(Uint32Array.of(Math.floor(i / V), i % V));
    cached.add(rowKey(x, 0, d) + '|' + rowKey(x, 1, d));
  }
  let useful = 0;
  for (let i = 0; i < ground; i++) {
    const x = world.input(world.seed(grindStart + i));
    if (cached.has(rowKey(x, 0, d) + '|' + rowKey(x, 1, d))) useful++;
  }
  const shaShare = SHA256_OPS / world.passFlops;
  // A rational attacker grinds only where it pays, so the attack is never worse than honest work.
  const grind = (rate: number) => (rate === 0 ? 1 : Math.max(1, 1 / (1 - 2 * share + shaShare / rate)));
  const [uLow, uCount] = proportionInterval(useful, ground);
  const pairBound = Math.min(1, pairs / 2 ** (2 * world.bits + noiseBits));
  // The bound holds for the true rate; the interval must still contain the measured one.
  const uHigh = Math.max(useful / ground, Math.min(uCount, pairBound));
  const pair: AttackResult = {
    name: 'prefix-cache-pair-grinding',
    fraction: useful / ground,
    advantage: grind(useful / ground),
    ci_low: Math.min(grind(uLow), grind(uHigh)),
    ci_high: Math.max(grind(uLow), grind(uHigh)),
    method: 'exact',
    useful,
    ground,
    cached_pairs: pairs,
    saved_share: 2 * share,
    hit_bound: pairBound,
  };
  return [position0, pair];
}

/**
 * e. Low-precision screen: every nonce at f16 activations, then the full-precision pass only where
 * the f16 distance is within LOW_PRECISION_MARGIN of r_target. Paired with the honest run of the
 * same nonces. Work counts FP32-equivalent FLOPs, as CU do, so an f16 pass costs a full pass.
 */
function lowPrecision(world: AuditWorld, nonces: readonly number[], baseline: readonly Evaluated[]): AttackResult {
  const low = world.evaluate(nonces, { round: roundToBits(11) });
  const confirm = low.map((e) => e.distance < world.rTarget + LOW_PRECISION_MARGIN);
  const honest = baseline.filter((e) => e.hit).length;
  const found = baseline.filter((e, i) => e.hit && confirm[i]).length;
  const confirmed = confirm.filter(Boolean).length;
  const fpAgree = low.filter((e, i) => sameFingerprint(e.fp, baseline[i]!.fp)).length;
  const n = nonces.length;
  const [low95, high95] = honest > 0 ? proportionInterval(found, honest) : [0, 1];
  const work = n / (n + confirmed);
  return {
    name: 'low-precision-f16',
    fraction: confirmed / n,
    advantage: honest > 0 ? (found / honest) * work : 1,
    ci_low: low95 * work,
    ci_high: high95 * work,
    method: 'paired',
    recall: honest > 0 ? found / honest : null,
    found,
    honest_hits: honest,
    confirmed,
    fingerprint_agreement: fpAgree / n,
    // Informative: if f16 ran at twice the f32 rate (real GPUs with shader-f16), in wall-clock terms.
    advantage_if_f16_twice_as_fast: honest > 0 ? (found / honest) * (n / (n / 2 + confirmed)) : null,
  };
}
