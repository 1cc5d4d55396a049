/**
 * The local demo's genesis (`sprintnet start`, `sprintnet relay` without `--genesis`): config
 * `tiny`, open join, p = 1/64 and short phases around a Sprint window of `sprintMs` (default
 * 20 s), so a browser and the demo's headless hosts see an epoch certify in under a minute.
 * `fastTimings` (protocol) scales every phase with the Sprint; here the phases that only wait for
 * gossip stay at 2 s, which is plenty on one machine and keeps a 20 s Sprint's epoch at 46 s.
 */
import { makeGenesis, type Genesis, type Timings } from '../protocol/genesis.ts';
import { DEFAULT_NETWORK_ID } from '../wallet/signing.ts';

export const DEMO_SPRINT_MS = 20_000;
export const DEMO_SKEW_MS = 1_000;
/** Time from writing the genesis to epoch 0: the demo's hosts start and commit in epoch 0 (open join). */
export const DEMO_START_IN_MS = 15_000;
/** p = 1/64 on tiny: tens of finds per browser in a short Sprint, so validation has something to sample. */
export const DEMO_HIT_RATE_DENOMINATOR = 64;

/** Phases of the demo: every gossip window 2 s (≥ 2 × skew), validation half the Sprint (≥ 4 s). */
export function demoTimings(sprintMs: number, skewMs: number): Timings {
  const w = Math.max(2 * skewMs, 2_000);
  const t = {
    commitMs: w,
    revealMs: w,
    settleMs: w,
    sprintMs,
    proofMs: w,
    validationMs: Math.max(2 * w, Math.round(sprintMs / 2)),
    syncMs: w,
    certifyMs: 2 * w,
  };
  const phases = t.commitMs + t.revealMs + t.settleMs + t.sprintMs + t.proofMs + t.validationMs + t.syncMs + t.certifyMs;
  return Object.freeze({ ...t, epochMs: phases + w });
}

export interface DemoGenesisOptions {
  readonly sprintMs?: number;
  readonly skewMs?: number;
  readonly startInMs?: number;
  readonly networkId?: string;
  readonly config?: string;
  readonly hitRateDenominator?: number;
  readonly now?: number;
}

export function demoGenesis(o: DemoGenesisOptions = {}): Genesis {
  const skewMs = o.skewMs ?? DEMO_SKEW_MS;
  const sprintMs = o.sprintMs ?? DEMO_SPRINT_MS;
  // A whole second, so the start reads well in logs.
  const startMs = Math.ceil(((o.now ?? Date.now()) + (o.startInMs ?? DEMO_START_IN_MS)) / 1000) * 1000;
  return makeGenesis({
    networkId: o.networkId ?? DEFAULT_NETWORK_ID,
    config: o.config ?? 'tiny',
    hitRateDenominator: o.hitRateDenominator ?? DEMO_HIT_RATE_DENOMINATOR,
    startMs,
    skewMs,
    timings: demoTimings(sprintMs, skewMs),
  });
}
