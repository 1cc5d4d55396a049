/**
 * Tests only: split proofs signed by real keys over a receipt whose steps are made up (the ledger
 * checks signatures, windows and sessions; the model-dependent checks are the validators').
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { Phase, Precision } from '../split/codec.ts';
import { seedSigner } from '../split/local.ts';
import { encodeProof, encodeReceipt, receiptDomain, signProof, type StepRecord } from '../split/proof.ts';
import { genesisHash, type Genesis } from './genesis.ts';

export interface FixtureProof {
  readonly userSeed: Uint8Array;
  readonly volunteerSeed: Uint8Array;
  /** Both parties sign for its network id, and the receipt names it (unless `names` says otherwise). */
  readonly genesis: Genesis;
  /** The genesis hash the receipt names instead of `genesis`'s (NO_GENESIS: none). */
  readonly names?: Uint8Array;
  readonly sessionId?: Uint8Array;
  readonly openedAtMs: number;
  readonly timestampMs: number;
  readonly decodeSteps?: number;
  readonly flops?: bigint;
}

export async function fixtureProof(o: FixtureProof): Promise<Uint8Array> {
  const steps: StepRecord[] = [{ position: 0, count: 4, phase: Phase.prefill, precision: Precision.f32, rewinds: 0, cost: 0, entropy: 2 }];
  for (let i = 0; i < (o.decodeSteps ?? 3); i++)
    steps.push({ position: 4 + i, count: 1, phase: Phase.decode, precision: Precision.f32, rewinds: 0, cost: 0.01, entropy: 1.5 });
  const receipt = encodeReceipt({
    sessionId: o.sessionId ?? new Uint8Array(16).fill(9),
    modelHash: new Uint8Array(32).fill(3),
    k: 2,
    numLayers: 8,
    vocab: 384,
    user: ed25519.getPublicKey(o.userSeed),
    volunteer: ed25519.getPublicKey(o.volunteerSeed),
    genesis: o.names ?? genesisHash(o.genesis),
    openedAtMs: o.openedAtMs,
    steps,
    hkRoot: new Uint8Array(32).fill(4),
    outputRoot: new Uint8Array(32).fill(5),
    flops: o.flops ?? 123_456_789n,
  });
  const receiptSignature = await seedSigner(o.volunteerSeed).sign(receiptDomain(o.genesis.networkId), receipt);
  return encodeProof(await signProof(seedSigner(o.userSeed), o.genesis.networkId, receipt, receiptSignature, o.timestampMs));
}
