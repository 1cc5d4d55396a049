/**
 * A split proof whose receipt is not signed by both parties can never be credited (the ledger
 * reports it `bad-signature`), so a host refuses the inference message carrying it on receipt
 * instead of keeping, storing and serving it (docs/protocol.md §13 "Inference proofs at the door").
 */
import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hex } from './bytes.ts';
import { schedule } from './genesis.ts';
import { fixtureProof } from './inference-fixtures.ts';
import { decodeMessage, signMessage } from './messages.ts';
import { walletSigner } from './crypto.ts';
import { createSimulation, simIdentity } from './sim/simulate.ts';

describe('inference proofs at the door', () => {
  it('keeps a proof both parties signed, and refuses one whose receipt was changed after they signed (BAD_SIGNATURE)', async () => {
    const sim = await createSimulation({ honest: 2, epochs: 1, seed: 5 });
    const g = sim.genesis;
    const at = schedule(g, 0).start + 500;
    const userSeed = new Uint8Array(32).fill(41);
    const volunteerSeed = new Uint8Array(32).fill(42);
    const volunteer = ed25519.getPublicKey(volunteerSeed);
    const signer = walletSigner({
      ed25519Seed: volunteerSeed,
      publicKey: volunteer,
      blsSecretKey: new Uint8Array(32).fill(1),
      keyBinding: simIdentity(0, g.networkId).binding,
    });
    const message = async (proof: Uint8Array) =>
      decodeMessage((await signMessage(signer, g, { kind: 'inference', epoch: 0, sender: volunteer, timestampMs: at, proof })).bytes);
    const proof = await fixtureProof({ userSeed, volunteerSeed, genesis: g, openedAtMs: at - 100, timestampMs: at });
    // One byte of the receipt (its FLOPs) changed after both signed: the message itself is validly signed by the volunteer.
    const tampered = proof.slice();
    tampered[tampered.length - 64 - 8 - 64 - 4 - 1]! ^= 1;
    const host = sim.hosts[0]!.host;
    const good = await message(proof);
    const bad = await message(tampered);
    expect(host.receive(good.bytes, 'sync')).not.toBeNull();
    expect(host.receive(bad.bytes, 'sync')).toBeNull(); // before: kept, stored and served
    expect(host.counters.rejected.BAD_SIGNATURE).toBe(1);
    expect(
      host.pool
        .messages(0)
        .filter((m) => m.kind === 'inference')
        .map((m) => m.id),
    ).toEqual([good.id]);
    expect(hex(host.pool.messages(0).find((m) => m.kind === 'inference')!.sender)).toBe(hex(volunteer));
  });
});
