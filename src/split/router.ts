/**
 * Where a request runs. The user's privacy choice comes first: "on this device only" never sends
 * h_k, however slow the device. Otherwise the whole model runs here when the device decodes at
 * least `targetTokensPerSecond` (measured, not assumed: `measureDecodeRate`), and is split when a
 * volunteer's step time plus the local [0, k) time beats local decoding. The step time comes from a
 * ping (ping.ts: measured round trip + the volunteer's own step time, no session opened) or, as a
 * deeper check that costs the volunteer a session, from `probeVolunteer`.
 */
import type { KvCache } from '../llm/model-types.ts';
import { decodeAnswer, encodeFloats, encodeRequest, Phase, Precision } from './codec.ts';
import { SESSION_ID_BYTES } from './constants.ts';
import type { SplitModel } from './engines.ts';
import { SplitError } from './errors.ts';
import { pingStepEstimate, type PingResult } from './ping.ts';
import type { SplitTransport } from './transport.ts';

export type PrivacyChoice = 'device-only' | 'allow-split';

export interface VolunteerProbe {
  readonly label: string;
  /** Measured wall time of one decode step through the volunteer (network both ways + layers [k, L)). */
  readonly stepMs: number;
}

export interface RouteInputs {
  readonly privacy: PrivacyChoice;
  /** Measured decode tokens/s of the whole model here; null when it does not fit this device. */
  readonly localTokensPerSecond: number | null;
  /** Measured decode tokens/s of layers [0, k) here. */
  readonly prefixTokensPerSecond: number;
  readonly volunteers: readonly VolunteerProbe[];
  /** "Fast enough": the decode rate at which running locally is preferred whatever else is available. */
  readonly targetTokensPerSecond: number;
}

export type Route =
  | { readonly route: 'local'; readonly tokensPerSecond: number; readonly reason: string }
  | { readonly route: 'split'; readonly volunteers: string[]; readonly tokensPerSecond: number; readonly reason: string };

/** Expected split decode rate: one token costs the local [0, k) step plus the volunteer's measured step. */
export const splitRate = (prefixTokensPerSecond: number, stepMs: number): number => 1000 / (1000 / prefixTokensPerSecond + stepMs);

export function chooseRoute(i: RouteInputs): Route {
  const local = i.localTokensPerSecond;
  if (i.privacy === 'device-only') {
    if (local === null) throw new SplitError('PRIVACY', 'the model does not run on this device, and "on this device only" forbids sending h_k');
    return { route: 'local', tokensPerSecond: local, reason: 'on this device only: h_k is never sent' };
  }
  if (local !== null && local >= i.targetTokensPerSecond)
    return { route: 'local', tokensPerSecond: local, reason: `this device decodes ${local.toFixed(1)} tok/s ≥ ${i.targetTokensPerSecond} tok/s` };
  const ranked = i.volunteers.map((v) => ({ label: v.label, rate: splitRate(i.prefixTokensPerSecond, v.stepMs) })).sort((a, b) => b.rate - a.rate);
  const best = ranked[0];
  if (best && (local === null || best.rate > local)) {
    return {
      route: 'split',
      volunteers: ranked.map((v) => v.label),
      tokensPerSecond: best.rate,
      reason: `split via ${best.label}: ${best.rate.toFixed(1)} tok/s vs ${local === null ? 'no local run' : `${local.toFixed(1)} tok/s here`}`,
    };
  }
  if (local === null) throw new SplitError('NO_VOLUNTEER', 'the model does not fit this device and no volunteer is available');
  return { route: 'local', tokensPerSecond: local, reason: `no volunteer is faster than this device (${local.toFixed(1)} tok/s)` };
}

/**
 * A ping as the ranking sees it: a volunteer whose sessions are all taken would refuse the request
 * (an Error, so it is not in the failover order); one that has not measured its step time is not
 * ordered by speed (undefined); else the round trip plus its step time.
 */
export function pingAsProbe(label: string, r: PingResult): VolunteerProbe | Error | undefined {
  if (r.openSessions >= r.sessionLimit) return new Error(`full: ${r.openSessions} of ${r.sessionLimit} sessions open`);
  if (r.stepMs === 0) return undefined;
  return { label, stepMs: pingStepEstimate(r) };
}

/** Decode tokens/s of layers [fromLayer, toLayer) here: `steps` single-token forwards after a one-token warm-up. */
export async function measureDecodeRate<K extends KvCache>(
  model: SplitModel<K>,
  o: { readonly toLayer?: number; readonly steps?: number } = {},
): Promise<number> {
  const steps = o.steps ?? 8;
  const cache = model.createKvCache({ toLayer: o.toLayer, maxContext: steps + 1 });
  try {
    await model.forward({ tokens: [0], toLayer: o.toLayer, kvCache: cache, logits: 'last' });
    const start = performance.now();
    for (let s = 0; s < steps; s++) await model.forward({ tokens: [(s * 7 + 1) % model.config.vocabSize], toLayer: o.toLayer, kvCache: cache, logits: 'last' });
    return (steps * 1000) / (performance.now() - start);
  } finally {
    model.destroyKvCache?.(cache);
  }
}

/**
 * One volunteer's step time: a throwaway session (one prefill position and `steps` decode steps of
 * random h_k, so nothing of the user's leaves), timed per decode step, then closed. The median is kept.
 */
export async function probeVolunteer(
  t: SplitTransport,
  o: { readonly modelHash: Uint8Array; readonly k: number; readonly hiddenSize: number; readonly steps?: number },
): Promise<VolunteerProbe> {
  const sessionId = crypto.getRandomValues(new Uint8Array(SESSION_ID_BYTES));
  const steps = o.steps ?? 4;
  const row = () =>
    encodeFloats(
      Float32Array.from({ length: o.hiddenSize }, () => Math.random() - 0.5),
      Precision.f32,
    );
  const ask = async (m: Parameters<typeof encodeRequest>[0]) => {
    const a = decodeAnswer(await t.call(encodeRequest(m)));
    if (a.kind === 'error') throw new SplitError(a.code, `${t.label}: ${a.message}`);
    return a;
  };
  await ask({ kind: 'open', sessionId, modelHash: o.modelHash, k: o.k, maxContext: steps + 1 });
  const base = { kind: 'step', sessionId, modelHash: o.modelHash, k: o.k, precision: Precision.f32 } as const;
  await ask({ ...base, step: 0, position: 0, count: 1, phase: Phase.prefill, hidden: row() });
  const times: number[] = [];
  for (let s = 1; s <= steps; s++) {
    const start = performance.now();
    await ask({ ...base, step: s, position: s, count: 1, phase: Phase.decode, hidden: row() });
    times.push(performance.now() - start);
  }
  await ask({ kind: 'close', sessionId });
  times.sort((a, b) => a - b);
  return { label: t.label, stepMs: times[Math.floor(times.length / 2)]! };
}
