/**
 * The CLI user's ledger (docs/split-inference.md §9): `infer --split K --relay ADDR --genesis PATH`
 * without `--peer` follows the genesis's ledger while it listens for volunteers, as a page does, with
 * the page's follower (src/app/ledger-follower.ts: the participant's `ProtocolHost` behind a signer,
 * an engine and a node that refuse, docs/protocol.md §15a) on the file store `sprintnet host` keeps
 * its state in (src/app/file-store.ts). The follower stores only certified states, so a later call
 * catches up from where this one stopped.
 *
 * Bounded: it gives up at the discovery's deadline (`--wait`), and earlier once the ranking is
 * needed and no peer holds a certified state. It ranks only by a state this host verified against
 * a certificate (derived and certified, or fetched and adopted); a pending state, derived from
 * fewer messages or built on one a peer could not certify, is never used. Without one it falls back
 * to the genesis's initial weights and says why.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileStore } from '../app/file-store.ts';
import type { JudgeLedger } from '../app/inference-judge.ts';
import { poolReputation } from '../app/inference-judge.ts';
import { LedgerFollower, LedgerRegistry } from '../app/ledger-follower.ts';
import { inferenceScores, standingFromGenesis, standingOfHost } from '../app/split-route.ts';
import { keyOfPeer, nodeTransport } from '../app/transport.ts';
import { multiaddr } from '@multiformats/multiaddr';
import type { SprintnetNode } from '../node/node.ts';
import { genesisId, type Genesis } from '../protocol/genesis.ts';
import { isCertified, type EpochView, type ProtocolHost } from '../protocol/host.ts';
import type { Transport } from '../protocol/interfaces.ts';
import { decodeHead, encodeRequest } from '../protocol/sync.ts';
import { toHex } from '../sprint/bytes.ts';
import type { LedgerStanding } from '../split/router-rank.ts';

/** Where the ranking's standing came from. */
export type StandingSource =
  | {
      readonly kind: 'ledger';
      readonly epoch: number;
      readonly stateHash: string;
      /** Derived here and matching its certificate, or fetched from a peer and verified against it. */
      readonly certificate: 'certified' | 'adopted';
      /** The newest certified epoch a peer reported (it may be ahead of `epoch` when the wait ran out). */
      readonly newestReported: number;
      readonly inferenceRecords: number;
      readonly syncMs: number;
    }
  | { readonly kind: 'genesis'; readonly reason: string; readonly syncMs: number }
  /** A programmatic caller's own lookup (tests), or no standing at all (no genesis). */
  | { readonly kind: 'given' | 'none'; readonly reason: string };

export interface RankingLedger {
  readonly standing: (publicKeyHex: string) => LedgerStanding | undefined;
  readonly inferenceScore?: (publicKeyHex: string) => number;
  readonly source: StandingSource;
}

export interface LedgerSync {
  /** The standing to rank by; from this call on the sync may end early (no peer holds a certified state). */
  result(): Promise<RankingLedger>;
  /** Ends the sync now (discovery failed) and stops the follower. */
  cancel(): Promise<void>;
}

export interface LedgerSyncOptions {
  readonly node: SprintnetNode;
  readonly genesis: Genesis;
  /** The follower's store; default `defaultLedgerDir(genesis)`. */
  readonly dataDir?: string;
  /** The most it waits for a certified state (the discovery's `--wait`). */
  readonly waitMs: number;
  readonly log?: (line: string) => void;
}

/** Head requests run at most this long (the host's own requests allow 10 s; the wait bounds both). */
const HEAD_TIMEOUT_MS = 5_000;
/** Peers asked for their head here; the follower's host probes up to MAX_HEAD_PROBES itself when it catches up (docs/protocol.md §12). */
const MAX_PEERS_ASKED = 16;
const POLL_MS = 100;

export const defaultLedgerDir = (g: Genesis): string => join(homedir(), '.sprintnet', g.networkId, genesisId(g), 'ledger-follower');

/** The newest state the host holds that matches a certificate it verified. */
export function newestCertified(host: Pick<ProtocolHost, 'head' | 'view'>): EpochView | undefined {
  for (let e = host.head; e >= 0; e--) {
    const v = host.view(e);
    if (v && isCertified(v.certificate)) return v;
  }
  return undefined;
}

/** Standing and inference scores from one certified state; verdicts weigh by certified states only. */
export function standingFromState(genesis: Genesis, host: ProtocolHost, v: EpochView): Omit<RankingLedger, 'source'> & { records: number } {
  const rows = new Map(v.state.hosts.map((h): [string, LedgerStanding] => [toHex(h.publicKey), standingOfHost(h)]));
  const certifiedOnly: JudgeLedger = {
    pool: host.pool,
    head: v.epoch,
    view: (e) => {
      const x = e <= v.epoch ? host.view(e) : undefined;
      return x && isCertified(x.certificate) ? x : undefined;
    },
    receive: () => null,
  };
  const records = poolReputation(genesis, certifiedOnly);
  return { standing: (key) => rows.get(key), inferenceScore: inferenceScores(records), records: records.length };
}

/** The line the CLI prints before its ranking. */
export function standingLine(s: StandingSource): string {
  switch (s.kind) {
    case 'ledger':
      return `ranking by the certified ledger, epoch ${s.epoch} (state ${s.stateHash.slice(0, 16)}…, ${s.certificate}; ${s.inferenceRecords} inference record${s.inferenceRecords === 1 ? '' : 's'}; synced in ${(s.syncMs / 1000).toFixed(1)} s)${s.newestReported > s.epoch ? `; peers report certified epoch ${s.newestReported}, not reached within the wait` : ''}\n`;
    case 'genesis':
      return `ranking by the genesis's initial weights, not the ledger: ${s.reason}\n`;
    default:
      return `ranking without a ledger: ${s.reason}\n`;
  }
}

/** The `--json` name of the source: "ledger epoch N", "genesis", "given" or "none". */
export const standingSourceName = (s: StandingSource): string => (s.kind === 'ledger' ? `ledger epoch ${s.epoch}` : s.kind);

/** A peer's presence can arrive before any connection to it: dial it through the relays (as split-user.ts `reach` does). */
async function dialThroughRelays(node: SprintnetNode, peerId: string, timeoutMs: number): Promise<void> {
  for (const relay of node.config.relays) {
    if (node.libp2p.getConnections().some((c) => c.remotePeer.toString() === peerId)) return;
    await node.libp2p.dial(multiaddr(`${relay}/p2p-circuit/p2p/${peerId}`), { signal: AbortSignal.timeout(timeoutMs) }).catch(() => undefined);
  }
}

/**
 * The peer's head (newest certified epoch + 1, 0 for none), or null: no sync handler for this
 * genesis (a volunteer without --genesis, a host of another genesis), unreachable, or malformed.
 */
async function askHead(node: SprintnetNode, transport: Transport, peerId: string, key: string, deadline: number): Promise<number | null> {
  const left = () => Math.min(HEAD_TIMEOUT_MS, deadline - Date.now());
  const ask = async () => {
    const next = decodeHead(await transport.request(key, encodeRequest({ op: 'head' }), { timeoutMs: left() }));
    return next !== null && Number.isSafeInteger(next) ? next : null;
  };
  if (left() < 1) return null;
  try {
    return await ask();
  } catch {
    await dialThroughRelays(node, peerId, Math.max(1, left()));
    if (left() < 1) return null;
    return ask().catch(() => null);
  }
}

/**
 * Starts following at once. The follower's host starts only after some peer reports a certified
 * head: started with no peer, its catch-up would derive every missed epoch from an empty pool and
 * build the following ones on those states.
 */
export function startLedgerSync(o: LedgerSyncOptions): LedgerSync {
  const started = Date.now();
  const deadline = started + o.waitMs;
  const heads = new Map<string, number | null | 'asking'>();
  let needed = false;
  let cancelled = false;
  let follower: LedgerFollower | null = null;
  // One transport for every head request, closed at the end: one per request would hold the
  // genesis's topics on the node once more each time, and none would ever let go.
  const asking = nodeTransport(o.node, o.genesis);

  const conclude = (): RankingLedger => {
    const syncMs = Date.now() - started;
    const reported = [...heads.values()].filter((h): h is number => typeof h === 'number');
    const newest = Math.max(-1, ...reported) - 1;
    const host = follower?.ownHost;
    const v = host && newestCertified(host);
    if (host && v) {
      const { standing, inferenceScore, records } = standingFromState(o.genesis, host, v);
      const certificate = v.certificate === 'adopted' ? 'adopted' : 'certified';
      return {
        standing,
        inferenceScore,
        source: { kind: 'ledger', epoch: v.epoch, stateHash: v.hash, certificate, newestReported: newest, inferenceRecords: records, syncMs },
      };
    }
    const seconds = `${(o.waitMs / 1000).toFixed(0)} s`;
    const refused = Object.entries(host?.counters.rejected ?? {})
      .map(([code, n]) => `${code} ×${n}${code === 'NOT_ELIGIBLE' ? '' : `, last: ${host?.counters.lastRejected[code]}`}`)
      .join('; ');
    const reason =
      heads.size === 0
        ? 'no protocol peer was seen'
        : reported.length === 0
          ? `no peer answered a ledger request (${heads.size} asked)`
          : newest < 0
            ? `no peer holds a certified state yet (${reported.length} answered)`
            : `peers report certified epoch ${newest}, but no state certified under this genesis arrived within ${seconds}${refused ? ` (refused: ${refused})` : ''}`;
    return { standing: standingFromGenesis(o.genesis), source: { kind: 'genesis', reason, syncMs } };
  };

  const outcome = (async (): Promise<RankingLedger> => {
    try {
      for (;;) {
        for (const { peerId, role } of o.node.presence.values()) {
          const key = role === 'relay' ? null : keyOfPeer(peerId);
          if (!key || heads.has(key) || heads.size >= MAX_PEERS_ASKED) continue;
          heads.set(key, 'asking');
          void askHead(o.node, asking, peerId, key, deadline).then((h) => heads.set(key, h));
        }
        const reported = [...heads.values()].filter((h): h is number => typeof h === 'number');
        // A head is the newest certified epoch + 1 (0: none).
        const newest = Math.max(-1, ...reported) - 1;
        if (newest >= 0 && !follower && !cancelled) {
          follower = new LedgerFollower({
            genesis: o.genesis,
            publicKey: null,
            registry: new LedgerRegistry(),
            openStore: () => fileStore(o.dataDir ?? defaultLedgerDir(o.genesis)),
          });
          await follower.start(o.node);
          o.log?.(`following the ledger of genesis ${genesisId(o.genesis).slice(0, 16)}… (peers report certified epoch ${newest})\n`);
        }
        const host = follower?.ownHost;
        const have = host && newestCertified(host);
        if (cancelled || (have && have.epoch >= newest)) break;
        const settled = [...heads.values()].every((h) => h !== 'asking');
        const lookedLongEnough = heads.size > 0 || Date.now() - started >= o.node.config.presenceIntervalMs;
        if (needed && newest < 0 && settled && lookedLongEnough) break;
        if (Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      return conclude();
    } finally {
      await follower?.stop();
      asking.close();
    }
  })();

  return {
    result() {
      needed = true;
      return outcome;
    },
    async cancel() {
      cancelled = true;
      await outcome.catch(() => undefined);
    },
  };
}

/** The `--json` record of the source (field names in docs/split-inference.md §9). */
export function standingJson(s: StandingSource) {
  return s.kind === 'ledger'
    ? {
        source: 'ledger' as const,
        epoch: s.epoch,
        state_hash: s.stateHash,
        certificate: s.certificate,
        newest_reported_epoch: s.newestReported,
        inference_records: s.inferenceRecords,
        sync_ms: s.syncMs,
      }
    : { source: s.kind, reason: s.reason, ...('syncMs' in s ? { sync_ms: s.syncMs } : {}) };
}
