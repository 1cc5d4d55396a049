/**
 * Epoch certificates (docs/protocol.md §"Certificate"): the state hash of epoch e signed (vote
 * messages) by hosts holding more than half of epoch e's voting weight. A certificate is final:
 * the next epoch's seed and weights build on the certified state.
 */
import { BinaryReader, BinaryWriter, DecodeError } from '../codec/binary.ts';
import { HASH_BYTES, MAX_HOSTS } from './constants.ts';
import type { Verifier } from './crypto.ts';
import { ProtocolError } from './errors.ts';
import type { Genesis } from './genesis.ts';
import { votingWeights, type EpochState } from './ledger.ts';
import { decodeMessage, MAX_MESSAGE_BYTES, verifyMessage, type VoteMessage } from './messages.ts';
import { equalBytes, hex } from './bytes.ts';
import { inWindow } from './windows.ts';

export interface Certificate {
  readonly epoch: number;
  readonly stateHash: Uint8Array;
  /** Vote messages, sorted by sender key, one per sender. */
  readonly votes: readonly VoteMessage[];
}

/**
 * The weights that certify epoch e: the next weights of state e−1, else genesis's initial weights,
 * else (open join, epoch 0) the voting weights recorded in the certified state itself.
 */
export function certifyingWeights(g: Genesis, prev: EpochState | null, state?: EpochState): Map<string, number> {
  if (prev || g.initialWeights.length > 0) return votingWeights(g, prev);
  const w = new Map<string, number>();
  for (const h of state?.hosts ?? []) if (h.votingWeight > 0) w.set(hex(h.publicKey), h.votingWeight);
  return w;
}

/** Weight behind `hash` among valid votes (one per sender), and the total. */
export function tallyVotes(votes: Iterable<VoteMessage>, epoch: number, hash: Uint8Array, weights: ReadonlyMap<string, number>) {
  const seen = new Set<string>();
  let signed = 0;
  for (const v of votes) {
    const k = hex(v.sender);
    if (v.epoch !== epoch || !equalBytes(v.stateHash, hash) || seen.has(k)) continue;
    seen.add(k);
    signed += weights.get(k) ?? 0;
  }
  let total = 0;
  for (const w of weights.values()) total += w;
  return { signed, total, certified: total > 0 && 2 * signed > total };
}

/** Builds a certificate from votes for `hash` if they hold more than half the weight, else null. */
export function assembleCertificate(epoch: number, hash: Uint8Array, votes: Iterable<VoteMessage>, weights: ReadonlyMap<string, number>): Certificate | null {
  const chosen = new Map<string, VoteMessage>();
  for (const v of votes) {
    const k = hex(v.sender);
    if (v.epoch === epoch && equalBytes(v.stateHash, hash) && (weights.get(k) ?? 0) > 0 && (!chosen.has(k) || v.id < chosen.get(k)!.id)) chosen.set(k, v);
  }
  const list = [...chosen.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
  return tallyVotes(list, epoch, hash, weights).certified ? { epoch, stateHash: hash, votes: list } : null;
}

/** Throws ProtocolError BAD_CERTIFICATE unless every vote verifies and they hold > 50% of `weights`. */
export function verifyCertificate(g: Genesis, c: Certificate, weights: ReadonlyMap<string, number>, verifier: Verifier): void {
  const bad = (why: string): never => {
    throw new ProtocolError('BAD_CERTIFICATE', `certificate of epoch ${c.epoch}: ${why}`);
  };
  let last = '';
  for (const v of c.votes) {
    const k = hex(v.sender);
    if (k <= last) bad('votes are not sorted by key without repeats');
    last = k;
    if (v.kind !== 'vote' || v.epoch !== c.epoch || !equalBytes(v.stateHash, c.stateHash)) bad('a vote is for another epoch or hash');
    if (!inWindow(g, 'vote', c.epoch, v.timestampMs)) bad('a vote is outside its window');
    if (!verifyMessage(verifier, g, v)) bad(`bad signature by ${k.slice(0, 16)}`);
  }
  if (!tallyVotes(c.votes, c.epoch, c.stateHash, weights).certified) bad('votes hold no more than half of the weight');
}

/** u64 epoch ‖ 32 hash ‖ u32 n ‖ n × bytes(vote) */
export function encodeCertificate(c: Certificate): Uint8Array {
  const w = new BinaryWriter().u64(c.epoch).fixed(c.stateHash, HASH_BYTES).u32(c.votes.length);
  for (const v of c.votes) w.bytes(v.bytes);
  return w.finish();
}

export function decodeCertificate(bytes: Uint8Array): Certificate {
  try {
    const r = new BinaryReader(bytes);
    const epoch = r.u64();
    const stateHash = r.fixed(HASH_BYTES);
    const n = r.u32();
    if (n > MAX_HOSTS) throw new DecodeError(`${n} votes exceed ${MAX_HOSTS}`);
    const votes: VoteMessage[] = [];
    for (let i = 0; i < n; i++) {
      const m = decodeMessage(r.bytes(MAX_MESSAGE_BYTES.vote));
      if (m.kind !== 'vote') throw new DecodeError('a certificate holds only votes');
      votes.push(m as VoteMessage);
    }
    r.end();
    return { epoch, stateHash, votes };
  } catch (e) {
    if (e instanceof DecodeError) throw new ProtocolError('MALFORMED', `certificate: ${e.message}`);
    throw e;
  }
}
