/**
 * The temperature / top-k / top-p draw over logits row 0, in one 256-invocation workgroup, so a
 * sampled decode step picks its token where the logits are (GpuSampler, gpu-sampler.ts). The rule
 * is sampling.ts's sampleToken in f32: p = exp((l − max) / T); tokens rank by p descending, then id
 * ascending; the kept ranks stop where the running mass reaches topP · total or the count reaches
 * top-k; the draw r = u · keptMass falls on the first kept rank whose running mass exceeds r, with
 * u = counterUniform(seed, index) (the same 24-bit value as sampling.ts computes).
 *
 * Nothing is sorted. p ≥ 0, so p's f32 bit pattern (its key) orders like p, and C(t) / M(t), the
 * count and mass of the tokens whose key is ≥ t, fall as t rises (the fixed-order f32 sums are
 * monotone: a skipped term adds 0 instead of p ≥ 0). Two bit-by-bit binary searches over t find:
 * - key*, the last kept rank's key: the largest t with C(t) ≥ 1 and (M(t) ≥ topP · total or
 *   C(t) ≥ K); tokens above it are kept, and of those at it the first m by id, m the fewest that
 *   reach topP or K;
 * - the drawn rank's key: the largest t with M(t) > r (at least key*); within that key the drawn
 *   token is the j-th by id, j = ⌊(r − M(key + 1)) / p⌋ (at most m − 1 at key*).
 * The searches take two bits a pass (three thresholds tallied at once), each pass a two-barrier
 * reduction: 15 passes over the vocabulary for key*, then 15 over the tokens at or above key* only
 * (packed into `kept`: a few hundred at top-p 0.9, the whole vocabulary at top-p 1), 21 passes
 * over the vocabulary in all at small nuclei.
 * NaN logits count as −∞ and +∞ as the largest f32; with every logit −∞ the pick is id 0.
 */
/** Invocations of the one workgroup: 256 on GPUs; 64 on CPU adapters, whose barriers cost per invocation. */
export type SampleThreads = 64 | 256;

/** Bytes of the params uniform: vocab, topK, seed, pad (u32), temperature, topP, pad, pad (f32). */
export const SAMPLE_PARAMS_BYTES = 32;

/** out[0] token, out[1] kept count, out[2] kept mass (f32 bits), out[3] u (f32 bits). */
export const SAMPLE_OUT_WORDS = 4;

/** The counter hash both sides use (PCG's output permutation on an LCG step of the input). */
export const PCG_HASH_WGSL = /* wgsl */ `
fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}`;

export function sampleKernel(threads: SampleThreads): string {
  const group = threads === 256 ? 16 : 8;
  return /* wgsl */ `
const WG = ${threads}u;
// Partials are summed in GROUP runs of GROUP (GROUP² = WG).
const GROUP = ${group}u;
const FLT_MAX = 3.4028234663852886e38;
struct Params { vocab: u32, top_k: u32, seed: u32, _a: u32, temperature: f32, top_p: f32, _b: f32, _c: f32 }
struct Draw { index: u32, _a: u32, _b: u32, _c: u32 }
struct Tally { count: vec4<u32>, mass: vec4<f32> }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<uniform> draw: Draw;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read_write> probs: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;
// The probabilities at or above key*, packed (any order): the draw's search only looks there.
@group(0) @binding(5) var<storage, read_write> kept: array<f32>;
var<workgroup> partU: array<vec4<u32>, ${threads}>;
var<workgroup> partF: array<vec4<f32>, ${threads}>;
var<workgroup> midU: array<vec4<u32>, ${group}>;
var<workgroup> midF: array<vec4<f32>, ${group}>;
${PCG_HASH_WGSL}

fn is_number(l: f32) -> bool {
  return (bitcast<u32>(l) & 0x7fffffffu) <= 0x7f800000u;
}

// C(t) and M(t) for four thresholds at once: each invocation sums its strided tokens in id order,
// then GROUP invocations sum GROUP partials each and every invocation sums those (two barriers; every
// invocation ends with the same values, so decisions on them need no broadcast).
fn count_in(p: f32, t: vec4<u32>, c: ptr<function, vec4<u32>>, m: ptr<function, vec4<f32>>) {
  let hit = vec4<u32>(bitcast<u32>(p)) >= t;
  *c += select(vec4<u32>(0u), vec4<u32>(1u), hit);
  *m += select(vec4<f32>(0.0), vec4<f32>(p), hit);
}

// Over the whole vocabulary (probs), or over the n packed kept probabilities.
fn tally(li: u32, t: vec4<u32>, packed: bool, n: u32) -> Tally {
  var c = vec4<u32>(0u);
  var m = vec4<f32>(0.0);
  if (packed) {
    for (var i = li; i < n; i += WG) { count_in(kept[i], t, &c, &m); }
  } else {
    for (var i = li; i < params.vocab; i += WG) { count_in(probs[i], t, &c, &m); }
  }
  partU[li] = c;
  partF[li] = m;
  workgroupBarrier();
  if (li < GROUP) {
    var cc = vec4<u32>(0u);
    var mm = vec4<f32>(0.0);
    for (var k = 0u; k < GROUP; k++) {
      cc += partU[li * GROUP + k];
      mm += partF[li * GROUP + k];
    }
    midU[li] = cc;
    midF[li] = mm;
  }
  workgroupBarrier();
  var cc = vec4<u32>(0u);
  var mm = vec4<f32>(0.0);
  for (var k = 0u; k < GROUP; k++) {
    cc += midU[k];
    mm += midF[k];
  }
  return Tally(cc, mm);
}

// The largest of t | q << shift (q = 0 … 3) whose lane of ok holds (ok is monotone in q).
fn step_up(t: u32, shift: u32, ok: vec4<bool>) -> u32 {
  return select(select(select(t, t | (1u << shift), ok.x), t | (2u << shift), ok.y), t | (3u << shift), ok.z);
}

fn thresholds(t: u32, shift: u32) -> vec4<u32> {
  return vec4<u32>(t | (1u << shift), t | (2u << shift), t | (3u << shift), 0xffffffffu);
}

@compute @workgroup_size(${threads})
fn main(@builtin(local_invocation_index) li: u32) {
  let V = params.vocab;
  var lm = -FLT_MAX;
  for (var i = li; i < V; i += WG) {
    let l = logits[i];
    if (is_number(l)) { lm = max(lm, min(l, FLT_MAX)); }
  }
  partF[li] = vec4<f32>(lm);
  workgroupBarrier();
  if (li < GROUP) {
    var x = -FLT_MAX;
    for (var k = 0u; k < GROUP; k++) { x = max(x, partF[li * GROUP + k].x); }
    midF[li] = vec4<f32>(x);
  }
  workgroupBarrier();
  var mx = -FLT_MAX;
  for (var k = 0u; k < GROUP; k++) { mx = max(mx, midF[k].x); }
  for (var i = li; i < V; i += WG) {
    let l = logits[i];
    var p = 0.0;
    if (is_number(l)) { p = exp((min(l, FLT_MAX) - mx) / params.temperature); }
    probs[i] = p;
  }
  // The per-id scan at the end reads other invocations' probabilities.
  storageBarrier();

  let total = tally(li, vec4<u32>(0u), false, 0u).mass.x;
  let P = vec4<f32>(params.top_p * total);
  let K = vec4<u32>(select(V, min(params.top_k, V), params.top_k > 0u));
  let one = vec4<u32>(1u);
  // p ≤ 1 (a key ≤ 0x3f800000 < 2^30): bits 29 … 0, two a pass.
  var kstar = 0u;
  for (var shift = 28i; shift >= 0i; shift -= 2i) {
    let s = tally(li, thresholds(kstar, u32(shift)), false, 0u);
    kstar = step_up(kstar, u32(shift), (s.count >= one) & ((s.mass >= P) | (s.count >= K)));
  }
  let pstar = bitcast<f32>(kstar);
  let edge = tally(li, vec4<u32>(kstar + 1u, kstar, 0xffffffffu, 0xffffffffu), false, 0u);
  let aboveCount = edge.count.x;
  let aboveMass = edge.mass.x;
  // Ties at key*, in id order: as many as reach topP or K, at least one.
  var m = min(edge.count.y - aboveCount, K.x - aboveCount);
  if (pstar > 0.0) {
    let need = max(ceil((P.x - aboveMass) / pstar), 1.0);
    m = u32(min(need, f32(m)));
  }
  let keptCount = aboveCount + m;
  let keptMass = aboveMass + f32(m) * pstar;

  // Pack the probabilities at or above key* (edge.count.y of them): offsets by invocation, then writes.
  var mine = 0u;
  for (var i = li; i < V; i += WG) {
    if (bitcast<u32>(probs[i]) >= kstar) { mine += 1u; }
  }
  partU[li] = vec4<u32>(mine);
  workgroupBarrier();
  var slot = 0u;
  for (var w = 0u; w < li; w++) { slot += partU[w].x; }
  for (var i = li; i < V; i += WG) {
    let p = probs[i];
    if (bitcast<u32>(p) >= kstar) {
      kept[slot] = p;
      slot += 1u;
    }
  }
  storageBarrier();
  let nk = edge.count.y;

  let u = f32(pcg_hash(pcg_hash(params.seed) + draw.index) >> 8u) * (1.0 / 16777216.0);
  let r = vec4<f32>(u * keptMass);
  var kd = 0u;
  for (var shift = 28i; shift >= 0i; shift -= 2i) {
    let s = tally(li, thresholds(kd, u32(shift)), true, nk);
    kd = step_up(kd, u32(shift), (s.count >= one) & (s.mass > r));
  }
  kd = max(kd, kstar);
  let pd = bitcast<f32>(kd);
  let drawn = tally(li, vec4<u32>(kd + 1u, kd, 0xffffffffu, 0xffffffffu), true, nk);
  var j = 0u;
  if (pd > 0.0) { j = u32(clamp(floor((r.x - drawn.mass.x) / pd), 0.0, f32(drawn.count.y - drawn.count.x - 1u))); }
  if (kd == kstar) { j = min(j, m - 1u); }

  // The j-th token of key kd by id: contiguous id ranges per invocation, counted, then offset.
  let chunk = (V + WG - 1u) / WG;
  let lo = min(li * chunk, V);
  let hi = min(lo + chunk, V);
  var c = 0u;
  for (var i = lo; i < hi; i++) {
    if (bitcast<u32>(probs[i]) == kd) { c += 1u; }
  }
  partU[li] = vec4<u32>(c);
  workgroupBarrier();
  var before = 0u;
  for (var w = 0u; w < li; w++) { before += partU[w].x; }
  if (j >= before && j < before + c) {
    var k = before;
    for (var i = lo; i < hi; i++) {
      if (bitcast<u32>(probs[i]) == kd) {
        if (k == j) { out[0] = i; }
        k += 1u;
      }
    }
  }
  if (li == 0u) {
    out[1] = keptCount;
    out[2] = bitcast<u32>(keptMass);
    out[3] = bitcast<u32>(u);
  }
}`;
}
