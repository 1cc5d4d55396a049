/** A validator's judgement of a session whose evidence outweighs one answer: fetched in chunks (docs/split-inference.md §7a). */
import { describe, expect, it } from 'vitest';
import { loadReference } from '../llm/loader.ts';
import { MemorySource } from '../llm/source.ts';
import { makeTestModel } from '../llm/test-model.ts';
import { decodeAnswer, encodeAnswer, EvidencePart } from '../split/codec.ts';
import { MAX_RESPONSE_BYTES } from '../split/constants.ts';
import { modelHash } from '../split/digest.ts';
import { loadFinalNorm } from '../split/engines.ts';
import { fetchEvidence } from '../split/evidence.ts';
import { seedSigner } from '../split/local.ts';
import { encodeProof } from '../split/proof.ts';
import { MemoryLink, type SplitTransport } from '../split/transport.ts';
import { splitGenerate } from '../split/user.ts';
import { SplitVolunteer } from '../split/volunteer.ts';
import { walletVerifier } from './crypto.ts';
import { genesisHash, makeGenesis } from './genesis.ts';
import { InferenceVerdict } from './inference-constants.ts';
import { judgeInference } from './inference-check.ts';

const NETWORK = 'sprintnet-test';
const GENESIS = makeGenesis({ networkId: NETWORK, config: 'tiny', startMs: 0 });
const seed = (n: number) => new Uint8Array(32).fill(n);

describe('judging a proof whose evidence exceeds one answer', () => {
  it('is consistent from chunks, and inconsistent when one chunk of h_k is changed', async () => {
    const { files } = makeTestModel({ layers: 3, vocab: 40_000, seed: 7 });
    const source = new MemorySource(files);
    const { model, manifest } = await loadReference(source);
    const norm = await loadFinalNorm(source, manifest);
    const hash = await modelHash(source, manifest);
    const validator = seedSigner(seed(53));
    const volunteer = new SplitVolunteer({
      model,
      lowestK: 1,
      modelHash: hash,
      normWeight: norm,
      signer: seedSigner(seed(52)),
      networkId: NETWORK,
      genesis: genesisHash(GENESIS),
      mayFetchEvidence: (peer) => peer.every((v, i) => v === validator.publicKey[i]),
    });
    const out = await splitGenerate(manifest.tokenizer!.encodeChat([{ role: 'user', content: 'judge me in chunks' }]), {
      model,
      k: 2,
      privacy: 'allow-split',
      modelHash: hash,
      volunteers: [new MemoryLink(volunteer, seed(52), seed(51))],
      thresholds: { tau: 2, maxEntropy: 1e3 },
      signer: seedSigner(seed(51)),
      networkId: NETWORK,
      maxTokens: 10,
      eosTokenIds: [],
    });
    const proof = out.segments[0]!.proof!;
    const bytes = encodeProof(proof);
    const link = new MemoryLink(volunteer, seed(52), seed(53));
    let logitsBytes = 0;
    const judge = (t: SplitTransport) =>
      judgeInference(bytes, {
        genesis: GENESIS,
        verifier: walletVerifier(),
        seed: validator.publicKey,
        model: () => ({ record: { hash, config: model.config, tau: 2 }, model, normWeight: norm }),
        evidence: async (p, sample) => {
          const ev = await fetchEvidence(t, p, sample);
          logitsBytes = [...ev.logits.values()].reduce((n, b) => n + b.length, 0);
          return ev;
        },
      });
    const honest = await judge(link);
    expect(honest).toMatchObject({ verdict: InferenceVerdict.consistent, checked: 8 });
    expect(logitsBytes).toBeGreaterThan(MAX_RESPONSE_BYTES);
    const lying: SplitTransport = {
      volunteerKey: link.volunteerKey,
      label: 'lying',
      async call(request) {
        const a = decodeAnswer(await link.call(request));
        if (a.kind !== 'evidence' || a.part !== EvidencePart.hk) return encodeAnswer(a);
        const changed = a.bytes.slice();
        changed[changed.length - 1]! ^= 0x40;
        return encodeAnswer({ ...a, bytes: changed });
      },
    };
    expect(await judge(lying)).toMatchObject({ verdict: InferenceVerdict.inconsistent, detail: expect.stringMatching(/h_k root/) });
  }, 120_000);
});
