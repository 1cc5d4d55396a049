/**
 * The ledger the split screen reads (docs/split-inference.md §13): the host this page follows for
 * the network's genesis, i.e. the Sprint runtime's while this tab takes part, else the ledger
 * follower's (docs/protocol.md §15a, `pageLedgers.host`). A page that only uses or serves split
 * inference thus ranks volunteers by the followed weights and inference scores, and its own
 * `inference` message enters the followed pool at once instead of at the next sync.
 */
import { genesisId, type Genesis } from '../protocol/genesis.ts';
import type { ProtocolHost } from '../protocol/host.ts';
import { toHex } from '../sprint/bytes.ts';
import type { LedgerStanding } from '../split/router-rank.ts';
import { poolReputation } from './inference-judge.ts';
import { pageLedgers, type LedgerRegistry } from './ledger-follower.ts';
import { inferenceScores, standingFromGenesis, standingOfHost } from './split-route.ts';

export interface PageLedger {
  /** The followed ledger's newest state on a key (hex); the genesis's initial weights before it has one. */
  standing(publicKeyHex: string): LedgerStanding | undefined;
  /** The key's inference score from the followed pool's verdicts; 0 without a record. */
  inferenceScore(publicKeyHex: string): number;
  /** Hands a message this page signed to the followed host; false when no host follows this genesis. */
  receiveOwn(bytes: Uint8Array): boolean;
}

/** Reputation is recomputed only when the host's head or pool changed (it checks every proof's signatures). */
const scoresSeen = new WeakMap<ProtocolHost, { seen: string; score: (key: string) => number }>();

function scoresOf(genesis: Genesis, host: ProtocolHost): (key: string) => number {
  const seen = `${host.head}/${host.pool
    .epochs()
    .map((e) => `${e}:${host.pool.messages(e).length}`)
    .join(',')}`;
  const cached = scoresSeen.get(host);
  if (cached?.seen === seen) return cached.score;
  const score = inferenceScores(poolReputation(genesis, host));
  scoresSeen.set(host, { seen, score });
  return score;
}

/** The page's ledger for `genesis` as it stands now (read again for each ranking). */
export function pageLedger(genesis: Genesis | null, registry: LedgerRegistry = pageLedgers): PageLedger {
  const host = genesis ? registry.host(genesisId(genesis)) : null;
  const head = host?.view(host.head);
  const rows = head ? new Map(head.state.hosts.map((h) => [toHex(h.publicKey), standingOfHost(h)])) : null;
  const initial = standingFromGenesis(genesis);
  const score = genesis && host ? scoresOf(genesis, host) : () => 0;
  return {
    standing(key) {
      return rows ? rows.get(key) : initial(key);
    },
    inferenceScore: (key) => score(key),
    receiveOwn(bytes) {
      if (!host) return false;
      host.receive(bytes, 'gossip');
      return true;
    },
  };
}
