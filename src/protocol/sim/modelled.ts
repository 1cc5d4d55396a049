/**
 * MODELLED stand-ins for the scale simulation (docs/benchmarks.md, "Protocol at scale"). They keep
 * every byte size and every protocol decision real, and replace only what costs CPU:
 *
 * - `OracleEngine`: the GPU work. A nonce's distance is a hash of (seed, key, nonce) mapped so that
 *   it is appropriate with probability p; a host "searches" `budget` nonces by hashing them and a
 *   validator "re-runs" a nonce by hashing it again, so honest claims always re-evaluate.
 * - `modelledCrypto`: signatures and the lottery. A "signature" is a keyed hash of the right length
 *   (64 B, 96 B); it verifies only for the key and bytes it was made for, and the lottery is still
 *   one value per (key, payload), so selection cannot be ground. It is NOT secure: anyone who knows
 *   a public key can forge. Its only purpose is to let 1,000 hosts run in one process.
 *
 * The CPU that real crypto and the real engine would take is reported separately, as operation
 * counts times costs measured with the real functions (scale.ts).
 */
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { BinaryWriter } from '../../codec/binary.ts';
import { rTarget } from '../../sprint/difficulty.ts';
import type { SigningDomain } from '../../wallet/signing.ts';
import type { KeyBinding, Signer, Verifier } from '../crypto.ts';
import type { EvaluateRequest, ProtocolEngine, SearchRequest, SearchResult } from '../interfaces.ts';
import { equalBytes, u48be } from '../bytes.ts';

const enc = (domain: SigningDomain, key: Uint8Array, payload: Uint8Array) =>
  new BinaryWriter().u16(domain.type).string(domain.networkId).fixed(key, 32).bytes(payload).finish();

export interface CryptoCounts {
  signatures: number;
  verifications: number;
  lotterySigned: number;
  lotteryVerified: number;
}

export function modelledCrypto(): { signer(publicKey: Uint8Array): Signer; verifier: Verifier; counts: CryptoCounts } {
  const counts: CryptoCounts = { signatures: 0, verifications: 0, lotterySigned: 0, lotteryVerified: 0 };
  const sig = (d: SigningDomain, k: Uint8Array, p: Uint8Array) => sha512(enc(d, k, p));
  const lot = (d: SigningDomain, k: Uint8Array, p: Uint8Array) => {
    const a = sha512(enc(d, k, p));
    return new Uint8Array([...a, ...sha256(a)]);
  };
  return {
    counts,
    signer: (publicKey) => ({
      publicKey,
      binding: {
        ed25519PublicKey: publicKey,
        blsPublicKey: new Uint8Array(48).fill(1),
        signature: new Uint8Array(64),
        proofOfPossession: new Uint8Array(96),
      } satisfies KeyBinding,
      sign: async (d, p) => {
        counts.signatures++;
        return sig(d, publicKey, p);
      },
      lottery: async (d, p) => {
        counts.lotterySigned++;
        return lot(d, publicKey, p);
      },
    }),
    verifier: {
      verify: (k, d, p, s) => {
        counts.verifications++;
        return s.length === 64 && equalBytes(s, sig(d, k, p));
      },
      lotteryValue: (b, d, p, s) => {
        counts.lotteryVerified++;
        return s.length === 96 && equalBytes(s, lot(d, b.ed25519PublicKey, p)) ? sha256(s) : null;
      },
    },
  };
}

/** MODELLED GPU work: distances drawn by hashing, appropriate with probability p. */
export class OracleEngine implements ProtocolEngine {
  readonly work = { evaluated: 0, partial: 0, validated: 0, screened: 0 };
  constructor(
    private readonly budget: number,
    /** The genesis difficulty, which validation re-evaluates against. */
    private readonly p: number,
    /** Timed: a search tries `perSecond` nonces per second of clock time left to its deadline, instead of `budget`. */
    private readonly timed?: { readonly clock: { now(): number }; readonly perSecond: number },
    /** Slow re-runs: each evaluated nonce takes `msPerNonce` of clock time (a validator's engine has a budget). */
    private readonly slow?: { readonly clock: { now(): number; setTimer(at: number, fn: () => void): unknown }; readonly msPerNonce: number },
  ) {}

  static distance(seed: Uint8Array, publicKey: Uint8Array, nonce: number, p: number, r: number): number {
    const h = sha256(new BinaryWriter().fixed(seed, 32).fixed(publicKey, 32).u64(nonce).finish());
    const u = u48be(h) / 2 ** 48;
    // Appropriate (below r) with probability p, spread over [0.9r, r); otherwise in [r, 1.1r).
    return u < p ? r * (0.9 + (0.1 * u) / p) : r * (1 + (0.1 * (u - p)) / (1 - p));
  }

  async search(req: SearchRequest): Promise<SearchResult> {
    const r = rTarget(req.config, req.hitRate);
    const n = this.timed
      ? Math.floor((Math.max(0, req.deadline - this.timed.clock.now()) * this.timed.perSecond) / 1000)
      : Math.max(0, this.budget - req.startNonce);
    const found = [];
    for (let nonce = req.startNonce; nonce < req.startNonce + n; nonce++) {
      const d = OracleEngine.distance(req.seed, req.publicKey, nonce, req.hitRate, r);
      if (d < r) found.push({ nonce, distance: d });
    }
    this.work.evaluated += n;
    return { found, tried: n, nextNonce: req.startNonce + n };
  }

  async evaluate(req: EvaluateRequest): Promise<number[]> {
    this.work.validated += req.nonces.length;
    const slow = this.slow;
    if (slow) await new Promise<void>((resolve) => slow.clock.setTimer(slow.clock.now() + slow.msPerNonce * req.nonces.length, resolve));
    return req.nonces.map((n) => OracleEngine.distance(req.seed, req.publicKey, n, this.p, rTarget(req.config, this.p)));
  }
}

/**
 * MODELLED `forged` prover: claims round(budget · p) nonces that the oracle says are NOT
 * appropriate, each with a made-up distance just under r_target, and evaluates nothing. Every
 * claim fails an honest re-run, so only validators that skip the re-run can pass it.
 */
export class ForgedOracleEngine extends OracleEngine {
  constructor(
    private readonly claims: number,
    budget: number,
    p: number,
  ) {
    super(budget, p);
  }

  override async search(req: SearchRequest): Promise<SearchResult> {
    const r = rTarget(req.config, req.hitRate);
    const found = [];
    for (let nonce = 1_000_000; found.length < this.claims; nonce++)
      if (!(OracleEngine.distance(req.seed, req.publicKey, nonce, req.hitRate, r) < r)) found.push({ nonce, distance: 0.95 * r });
    return { found, tried: 0, nextNonce: req.startNonce };
  }
}
