/**
 * The split screen's ledger on a page that does not take part: a real LedgerFollower whose store
 * holds epoch 0's state (weights other than the genesis's) and, in epoch 1, signed inference proofs
 * and a weighted validator's verdict. The ranking must follow that state and those verdicts, and the
 * page's own `inference` message must enter the follower's pool at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerIdFromPublicKeyBytes } from '../node/index.ts';
import { hex } from '../protocol/bytes.ts';
import { walletSigner, walletVerifier, type Signer } from '../protocol/crypto.ts';
import { fastTimings, makeGenesis, schedule, type Genesis } from '../protocol/genesis.ts';
import { InferenceVerdict } from '../protocol/inference-constants.ts';
import { fixtureProof } from '../protocol/inference-fixtures.ts';
import { deriveEpoch, encodeState, Flag, type HostRecord } from '../protocol/ledger.ts';
import { signMessage, type Message } from '../protocol/messages.ts';
import { epochKey, MemoryStore } from '../protocol/store.ts';
import { simIdentity } from '../protocol/sim/simulate.ts';
import { rankVolunteers } from '../split/router-rank.ts';
import { decodeProof, proofId } from '../split/proof.ts';
import { LedgerFollower, LedgerRegistry } from './ledger-follower.ts';
import { pageLedger, type PageLedger } from './page-ledger.ts';
import { standingOfHost } from './split-route.ts';

const NET = 'sprintnet-page-ledger-test';
const id = (n: number) => simIdentity(n, NET);
const signerOf = (n: number): Signer =>
  walletSigner({ ed25519Seed: id(n).seed, publicKey: id(n).publicKey, blsSecretKey: id(n).bls, keyBinding: id(n).binding });
const keyHex = (n: number) => hex(id(n).publicKey);
const [VALIDATOR, A, B, C, USER] = [10, 1, 2, 3, 50];

const timings = fastTimings(20_000, 500);
// Early in epoch 1: epoch 0's state is the followed head, epoch 1's inference window is open.
const probe = makeGenesis({ networkId: NET, config: 'tiny', startMs: 0, skewMs: 500, timings, hitRateDenominator: 8 });
const epochMs = schedule(probe, 1).start - schedule(probe, 0).start;
// The genesis puts A first (weight 3); the followed state gives B weight 5 and A and C weight 1.
const genesis: Genesis = makeGenesis({
  networkId: NET,
  config: 'tiny',
  startMs: Date.now() - epochMs - 500,
  skewMs: 500,
  timings,
  hitRateDenominator: 8,
  initialWeights: [
    { publicKey: id(VALIDATOR).publicKey, weight: 1 },
    { publicKey: id(A).publicKey, weight: 3 },
  ],
});

function followedState() {
  const s = deriveEpoch(genesis, null, 0, [], walletVerifier()).state;
  const base = s.hosts[0]!;
  const host = (n: number, weight: number, flags = 0): HostRecord => ({ ...base, publicKey: id(n).publicKey, weight, votingWeight: weight, flags });
  // Outcome flags (an accepted proof, nobody validating) are not faults: they must not flag a volunteer.
  const hosts = [host(VALIDATOR, 1), host(A, 1, Flag.unvalidated), host(B, 5, Flag.accepted), host(C, 1, Flag.accepted)].sort((x, y) =>
    hex(x.publicKey) < hex(y.publicKey) ? -1 : 1,
  );
  return { ...s, hosts };
}

const proofOf = (volunteer: number, session: number) =>
  fixtureProof({
    userSeed: id(USER).seed,
    volunteerSeed: id(volunteer).seed,
    genesis,
    sessionId: new Uint8Array(16).fill(session),
    openedAtMs: Date.now() - 100,
    timestampMs: Date.now() - 50,
  });
const published = (p: Uint8Array, by: number) =>
  signMessage(signerOf(by), genesis, { kind: 'inference', epoch: 1, sender: signerOf(by).publicKey, timestampMs: Date.now(), proof: p });

const registry = new LedgerRegistry();
const store = new MemoryStore();
let follower: LedgerFollower;

beforeAll(async () => {
  const aProof = await proofOf(A, 1);
  const stored: Message[] = [
    await published(aProof, A),
    await published(await proofOf(C, 2), C),
    await signMessage(signerOf(VALIDATOR), genesis, {
      kind: 'inferenceVerdict',
      epoch: 1,
      sender: signerOf(VALIDATOR).publicKey,
      timestampMs: Date.now(),
      proofId: proofId(decodeProof(aProof)),
      verdict: InferenceVerdict.consistent,
      checked: 3,
    }),
  ];
  await store.put(`state/${epochKey(0)}`, encodeState(followedState()));
  for (const m of stored) await store.put(`msg/${epochKey(m.epoch)}/${m.id}`, m.bytes);
  follower = new LedgerFollower({ genesis, publicKey: null, openStore: async () => store, registry, refreshMs: 60_000 });
  await follower.start(undefined);
});

afterAll(() => follower.stop());

const rank = (l: PageLedger) =>
  rankVolunteers(
    [A, B, C].map((n) => ({
      peerId: peerIdFromPublicKeyBytes(id(n).publicKey),
      standing: l.standing(keyHex(n)),
      probe: undefined,
      inferenceScore: l.inferenceScore(keyHex(n)),
    })),
    null,
  ).map((r) => ({ peerId: r.peerId, tier: r.tier }));
const peer = (n: number) => peerIdFromPublicKeyBytes(id(n).publicKey);

describe('pageLedger on a page that only follows', () => {
  it('ranks by the followed weights and the followed pool inference scores, not the genesis', () => {
    expect(follower.snapshot.mode).toBe('following');
    const l = pageLedger(genesis, registry);
    expect(l.standing(keyHex(B))?.weight).toBe(5);
    expect(l.standing(keyHex(A))?.weight).toBe(1);
    expect(l.inferenceScore(keyHex(A))).toBe(1);
    expect(l.inferenceScore(keyHex(C))).toBe(0);
    // All three weighted; the inference score comes first (A), then the weight (B's 5 over C's 1).
    expect(rank(l)).toEqual([peer(A), peer(B), peer(C)].map((p) => ({ peerId: p, tier: 'weighted' })));
    expect(l.standing(keyHex(B))?.flags).toEqual([]);

    // Without a follower the page has only the genesis: A (weight 3) first, no inference score.
    const bare = pageLedger(genesis, new LedgerRegistry());
    expect(bare.standing(keyHex(B))).toBeUndefined();
    expect(bare.inferenceScore(keyHex(A))).toBe(0);
    expect(rank(bare)).toEqual(
      expect.arrayContaining([
        { peerId: peer(B), tier: 'unweighted' },
        { peerId: peer(C), tier: 'unweighted' },
      ]),
    );
    expect(rank(bare)[0]).toEqual({ peerId: peer(A), tier: 'weighted' });
  });

  it('only fault flags (fraud, withheld, equivocated) put a volunteer in the flagged tier', () => {
    const base = followedState().hosts[0]!;
    const standing = standingOfHost({ ...base, flags: Flag.accepted | Flag.fraud | Flag.equivocated | Flag.unvalidated });
    expect(standing.flags).toEqual(['fraud', 'equivocated']);
    const tiers = rankVolunteers(
      [
        { peerId: 'faulty', standing, probe: undefined },
        { peerId: 'withheld', standing: standingOfHost({ ...base, flags: Flag.withheld }), probe: undefined },
        { peerId: 'accepted', standing: standingOfHost({ ...base, flags: Flag.accepted | Flag.rejected | Flag.wrongSeed }), probe: undefined },
      ],
      null,
    ).map((r) => [r.peerId, r.tier]);
    expect(tiers).toEqual([
      ['accepted', 'weighted'],
      ['faulty', 'flagged'],
      ['withheld', 'flagged'],
    ]);
  });

  it("hands the page's own inference message to the follower's pool at once", async () => {
    const own = await published(await proofOf(B, 3), B);
    const host = registry.host(follower.genesisId)!;
    expect(host.pool.messages(1).some((m) => m.id === own.id)).toBe(false);
    expect(pageLedger(genesis, registry).receiveOwn(own.bytes)).toBe(true);
    expect(host.pool.messages(1).some((m) => m.id === own.id)).toBe(true);
    // Without a followed host it reports that nothing took it.
    expect(pageLedger(genesis, new LedgerRegistry()).receiveOwn(own.bytes)).toBe(false);
  });
});
