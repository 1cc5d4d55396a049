/**
 * `infer --split K --relay ADDR` without `--peer`: the CLI user finds its volunteers as the browser
 * does (docs/split-inference.md §9, §12). It listens on `split-volunteer` for volunteers of its
 * model hash and k for a bounded time, pings them (round trip, load, their own step time; no
 * session), ranks them (standing in the certified ledger it followed meanwhile, split-ledger.ts, or
 * the genesis's initial weights when it got no certified state; then the inference score from that
 * ledger's verdicts; then the step estimate), and the ranking is the failover order: each volunteer
 * is reached through the relay only when its turn comes (src/app/split-failover.ts ReachingTransport).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { inferenceScoreByPeer, listedFrom, rankListedVolunteers, standingByPeer, type RankedList } from '../app/split-route.ts';
import { reach } from '../app/split-user.ts';
import { ReachingTransport } from '../app/split-failover.ts';
import type { SprintnetNode } from '../node/node.ts';
import { listenForVolunteers, VolunteerDirectory } from '../split/announce.ts';
import { SplitError } from '../split/errors.ts';
import type { LedgerStanding, RankedVolunteer } from '../split/router-rank.ts';
import { NodeTransport } from '../split/transport.ts';
import { standingLine, type LedgerSync, type StandingSource } from './split-ledger.ts';

/** A call to a volunteer this silent is a dead link (failover), as in the browser. */
export const CALL_TIMEOUT_MS = 30_000;
/**
 * After the first matching volunteer is heard, how long others still get to announce (bounded by
 * the wait): at least this, and one announcement interval (the node's presence interval, 5 s by
 * default), since each volunteer announces once per interval at its own phase.
 */
export const GATHER_MS = 2_000;

export interface DiscoverOptions {
  readonly node: SprintnetNode;
  readonly relays: readonly string[];
  readonly modelHash: Uint8Array;
  readonly k: number;
  /** How long to listen for announcements at most. */
  readonly waitMs: number;
  readonly standing: (publicKeyHex: string) => LedgerStanding | undefined;
  /**
   * The followed ledger (split-ledger.ts), asked for once listening ends; its standing and inference
   * scores replace `standing` and `inferenceScore`, and its source is returned.
   */
  readonly ledger?: Pick<LedgerSync, 'result'>;
  /** A key's inference score (protocol's `inferenceScore` of its judged sessions), for a caller that follows a ledger; absent: no records. */
  readonly inferenceScore?: (publicKeyHex: string) => number;
  /** Measured decode tokens/s of layers [0, k) here (for the expected split rate). */
  readonly prefixTokensPerSecond: number | null;
  /** The genesis hash the user follows: volunteers announcing another rank last but for the unreachable. */
  readonly genesis?: Uint8Array;
  readonly log?: (line: string) => void;
}

/** Listens, pings, ranks. Throws SplitError NO_VOLUNTEER when none announced the model and k in time, or none answered. */
export async function discoverVolunteers(
  o: DiscoverOptions,
): Promise<RankedList & { readonly order: string[]; readonly heard: number; readonly source: StandingSource | null }> {
  const directory = new VolunteerDirectory({ ttlMs: 3 * o.node.config.presenceIntervalMs });
  let heard = 0;
  const stopListening = listenForVolunteers(o.node, directory);
  const counting = o.node.onGossip('split-volunteer', () => heard++);
  const matching = () => directory.forModel(o.modelHash, o.k);
  try {
    const until = Date.now() + o.waitMs;
    while (matching().length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const gatherMs = Math.max(GATHER_MS, o.node.config.presenceIntervalMs);
    if (matching().length > 0) await new Promise((r) => setTimeout(r, Math.max(0, Math.min(gatherMs, until - Date.now()))));
  } finally {
    stopListening();
    counting();
  }
  const listed = listedFrom(matching());
  if (listed.length === 0)
    throw new SplitError(
      'NO_VOLUNTEER',
      `no volunteer announced model ${bytesToHex(o.modelHash).slice(0, 16)}… for k = ${o.k} within ${(o.waitMs / 1000).toFixed(0)} s (${heard} announcements heard, none for it): start one with \`sprintnet host --serve-model DIR\`, or name one with --peer`,
    );
  const ledger = o.ledger && (await o.ledger.result());
  if (ledger) o.log?.(standingLine(ledger.source));
  const score = ledger ? ledger.inferenceScore : o.inferenceScore;
  o.log?.(`heard ${listed.length} volunteer${listed.length === 1 ? '' : 's'} for this model and k = ${o.k}; pinging\n`);
  const result = await rankListedVolunteers({
    node: o.node,
    reach: (peerId) => reach(o.node, peerId, o.relays),
    networkId: o.node.config.networkId,
    modelHash: o.modelHash,
    k: o.k,
    listed,
    standing: standingByPeer(ledger?.standing ?? o.standing),
    inferenceScore: score && inferenceScoreByPeer(score),
    genesis: o.genesis,
    prefixTokensPerSecond: o.prefixTokensPerSecond,
    maxAgeMs: 0,
  });
  const order = result.ranked.filter((v) => v.tier !== 'unreachable').map((v) => v.peerId);
  if (order.length === 0)
    throw new SplitError('NO_VOLUNTEER', `no announced volunteer answered: ${result.ranked.map((v) => `${v.peerId.slice(-8)}: ${v.problem}`).join('; ')}`);
  return { ...result, order, heard, source: ledger?.source ?? null };
}

/** The failover transports, in ranking order: each reached through the relays when its turn comes. */
export const failoverTransports = (node: SprintnetNode, order: readonly string[], relays: readonly string[]): ReachingTransport[] =>
  order.map((peerId) => new ReachingTransport(new NodeTransport(node, peerId, CALL_TIMEOUT_MS), () => reach(node, peerId, relays)));

/** One ranked volunteer as the CLI prints it (the --json field names). */
export function rankingRow(v: RankedVolunteer) {
  return {
    peer_id: v.peerId,
    tier: v.tier,
    weight: v.weight,
    reputation: v.reputation,
    inference_score: v.inferenceScore,
    rtt_ms: v.rttMs,
    step_ms: v.stepMs,
    expected_tokens_per_second: v.expectedTokensPerSecond,
    announced_tokens_per_second: v.announcedTokensPerSecond,
    open_sessions: v.openSessions,
    session_limit: v.sessionLimit,
    problem: v.problem,
  };
}

export function rankingLine(v: RankedVolunteer, i: number): string {
  const f = (x: number | null, d = 1) => (x === null ? '–' : x.toFixed(d));
  return `  ${i + 1}. ${v.peerId.slice(-8)}  ${v.tier}${v.weight > 0 ? ` (weight ${v.weight})` : ''}${v.inferenceScore !== 0 ? `  inference score ${v.inferenceScore}` : ''}  ping ${f(v.rttMs)} ms  step ${f(v.stepMs)} ms  expected ${f(v.expectedTokensPerSecond)} tok/s  announced ${v.announcedTokensPerSecond.toFixed(1)} tok/s  load ${v.openSessions ?? '–'}/${v.sessionLimit ?? '–'}${v.problem ? `  (${v.problem})` : ''}\n`;
}
