/**
 * The protocol at scale (docs/benchmarks.md, "Protocol at scale"). Two parts, both labelled:
 *
 * 1. `runScaleSim`: every host is a real `ProtocolHost` (real codecs, selection, ledger, sync and
 *    certificates) over the in-memory network, with the MODELLED oracle engine and MODELLED
 *    signatures of modelled.ts. Feasible in one process up to a few hundred hosts.
 * 2. `scaleModel`: the same quantities computed from message sizes (real encoders) and counts, for
 *    any N; checked against part 1 at the sizes both can run.
 *
 * Gossip in the simulation is a direct broadcast (each message crosses the network once per
 * receiver). Real gossipsub forwards each message over a mesh of degree D = 6; the reported
 * "sent" bytes apply that model: a peer sends its own messages to D peers and forwards every
 * other one to D − 1 (an upper bound: IDONTWANT and duplicate suppression send less).
 */
import { MAX_VALIDATION_ENTRIES } from '../constants.ts';
import { DEFAULT_TIMINGS, schedule } from '../genesis.ts';
import { encodeUnsigned, HEADER_BYTES, VALIDATION_ENTRY_BYTES, type Unsigned } from '../messages.ts';
import { effectiveRateBps } from '../selection.ts';
import { modelledCrypto } from './modelled.ts';
import { createSimulation } from './simulate.ts';

export const GOSSIP_DEGREE = 6;

export interface ScaleRow {
  readonly hosts: number;
  readonly epoch: number;
  readonly source: 'simulated (MODELLED oracle + signatures)' | 'model';
  /** Share of hosts each validator checks (q), in this epoch. */
  readonly checkRate: number;
  /** Unique protocol messages in the epoch, and their bytes. */
  readonly messages: number;
  readonly gossipBytes: number;
  /** Per peer: bytes sent (gossipsub model), mean. */
  readonly sentBytesPerPeer: number;
  /** Per peer: request/response bytes sent (lists, sync), mean and max. */
  readonly rpcBytesPerPeer: number;
  readonly rpcBytesMax: number;
  /** Per peer: messages handled (unique gossip + requests served), mean. */
  readonly handledPerPeer: number;
  /** Largest single message (a validation), bytes. */
  readonly largestMessage: number;
  /** Network time from the ledger close to each host's certificate (simulated only): median and max ms. */
  readonly certificateMs?: { median: number; max: number };
  /** Every host derived the same state and holds the certificate. */
  readonly agreed?: boolean;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

export interface ScaleSimOptions {
  hosts: number;
  epochs: number;
  seed?: number;
  /** Expected appropriate nonces per host per epoch (sets the list sizes). */
  claims?: number;
  hitRateDenominator?: number;
  latencyMs?: readonly [number, number];
}

export async function runScaleSim(o: ScaleSimOptions): Promise<ScaleRow[]> {
  const pDen = o.hitRateDenominator ?? 64;
  const claims = o.claims ?? 50;
  const crypto = modelledCrypto();
  const certifiedAt = new Map<string, number>();
  let clock = () => 0;
  const sim = await createSimulation({
    honest: o.hosts,
    epochs: o.epochs,
    seed: o.seed ?? 1,
    noncesPerSprint: claims * pDen,
    hitRateDenominator: pDen,
    timings: DEFAULT_TIMINGS,
    skewMs: 5_000,
    latencyMs: o.latencyMs ?? [20, 150],
    modelled: { crypto },
    onEvent: (host, e) => {
      if (e.type === 'state' && e.view.certificate === 'certified') {
        const k = `${host}/${e.view.epoch}`;
        if (!certifiedAt.has(k)) certifiedAt.set(k, clock());
      }
    },
  });
  clock = () => sim.loop.now();
  const rows: ScaleRow[] = [];
  let before = sim.hosts.map((h) => ({ ...sim.net.stats(h.key) }));
  let servedBefore = sim.hosts.map((h) => h.host.counters.requestsServed);
  for (let e = 0; e < o.epochs; e++) {
    const report = await sim.runEpoch(e);
    const after = sim.hosts.map((h) => ({ ...sim.net.stats(h.key) }));
    const served = sim.hosts.map((h) => h.host.counters.requestsServed);
    const d = after.map((a, i) => {
      const b = before[i]!;
      return {
        own: a.gossipSentBytes - b.gossipSentBytes,
        received: a.gossipReceivedBytes - b.gossipReceivedBytes,
        receivedMessages: a.gossipReceivedMessages - b.gossipReceivedMessages,
        ownMessages: a.gossipSentMessages - b.gossipSentMessages,
        rpc: a.requestBytesSent - b.requestBytesSent + a.responseBytesSent - b.responseBytesSent,
        served: served[i]! - servedBefore[i]!,
      };
    });
    const messages = d.reduce((s, x) => s + x.ownMessages, 0);
    const gossipBytes = d.reduce((s, x) => s + x.own, 0);
    const close = schedule(sim.genesis, e).close;
    const times = sim.hosts
      .map((_, i) => certifiedAt.get(`${i}/${e}`))
      .filter((t): t is number => t !== undefined)
      .map((t) => t - close);
    const validations = sim.hosts[0]!.host.pool.messages(e).filter((m) => m.kind === 'validation');
    const entries = validations.reduce((s, m) => s + (m.kind === 'validation' ? m.entries.length : 0), 0);
    rows.push({
      hosts: o.hosts,
      epoch: e,
      source: 'simulated (MODELLED oracle + signatures)',
      checkRate: validations.length ? entries / (validations.length * (o.hosts - 1)) : 0,
      messages,
      gossipBytes,
      sentBytesPerPeer: d.reduce((s, x) => s + GOSSIP_DEGREE * x.own + (GOSSIP_DEGREE - 1) * x.received, 0) / d.length,
      rpcBytesPerPeer: d.reduce((s, x) => s + x.rpc, 0) / d.length,
      rpcBytesMax: Math.max(...d.map((x) => x.rpc)),
      handledPerPeer: d.reduce((s, x) => s + x.receivedMessages + x.served, 0) / d.length,
      largestMessage: Math.max(0, ...validations.map((m) => m.bytes.length)),
      certificateMs: { median: median(times), max: Math.max(...times) },
      agreed: report.agreed && report.certified,
    });
    before = after;
    servedBefore = served;
  }
  return rows;
}

/** Sizes of each message kind from the real encoder (the signature is 64 bytes of anything). */
function sizes(entries: number) {
  const h = { epoch: 1, sender: new Uint8Array(32), timestampMs: 1 };
  const z = new Uint8Array(32);
  const size = (u: Unsigned) => encodeUnsigned(u).length + 64;
  const binding = { ed25519PublicKey: h.sender, blsPublicKey: new Uint8Array(48), signature: new Uint8Array(64), proofOfPossession: new Uint8Array(96) };
  const entry = { host: z, proofId: z, verdict: 0 as const, checked: 1, mismatches: 0 };
  const listed = Math.min(entries, MAX_VALIDATION_ENTRIES);
  const fixedValidation = size({ ...h, kind: 'validation', binding, lottery: new Uint8Array(96), entries: [] });
  return {
    commit: size({ ...h, kind: 'commit', commitment: z }),
    reveal: size({ ...h, kind: 'reveal', secret: z }),
    proof: size({ ...h, kind: 'proof', seed: z, count: 1, root: z, noncesTried: 1 }),
    vote: size({ ...h, kind: 'vote', stateHash: z }),
    validation: fixedValidation + listed * VALIDATION_ENTRY_BYTES,
    entry: size({ ...h, kind: 'validation', binding, lottery: new Uint8Array(96), entries: [entry] }) - fixedValidation,
  };
}

/**
 * The model: N hosts, all weighted, reputation `reputation` (0: epoch 0, everyone new; 10: steady
 * state), `claims` appropriate nonces per host. Per-peer sent bytes use the gossipsub model.
 */
export function scaleModel(n: number, reputation: number, claims: number): ScaleRow {
  const q = effectiveRateBps(reputation, n - 1) / 10_000;
  const checked = q * (n - 1);
  const s = sizes(Math.round(checked));
  const gossipBytes = n * (s.commit + s.reveal + s.proof + s.vote + s.validation);
  const messages = 5 * n;
  const own = gossipBytes / n;
  // Lists: each host serves its list to every validator that checks it; each validator sends one request per host it checks.
  const listBytes = 4 + 16 * claims + 1 + 4; // response: status, length prefix
  const listRequest = 1 + 32;
  const sync = 2 * 3 * (9 + 1 + 4 + 16 * 32); // two sync rounds (Sprint start, before the close) with three peers, nothing missing
  const rpc = checked * (listBytes + listRequest) + sync;
  return {
    hosts: n,
    epoch: reputation === 0 ? 0 : reputation,
    source: 'model',
    checkRate: q,
    messages,
    gossipBytes,
    sentBytesPerPeer: GOSSIP_DEGREE * own + (GOSSIP_DEGREE - 1) * (gossipBytes - own),
    rpcBytesPerPeer: rpc,
    rpcBytesMax: rpc,
    handledPerPeer: messages - 5 + checked + 3,
    largestMessage: s.validation,
  };
}

export const ENTRY_BYTES = VALIDATION_ENTRY_BYTES;
export const MESSAGE_HEADER_BYTES = HEADER_BYTES;
