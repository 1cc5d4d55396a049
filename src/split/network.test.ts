/** Split inference over two real libp2p nodes on loopback: the sealed `split-infer` open, then the session's frames on `split-session`. */
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../llm/generate.ts';
import type { SprintnetNode } from '../node/node.ts';
import { LOOPBACK_WS, testNode } from '../node/test-helpers.ts';
import { decodeAnswer } from './codec.ts';
import { SPLIT_SESSION_RPC_NAME } from './constants.ts';
import { seedSigner, strictVerifier } from './local.ts';
import { checkProof } from './proof.ts';
import { isFrame } from './session-key.ts';
import { NETWORK, testRig, type TestRig } from './test-support.ts';
import { NodeTransport, serveSplit } from './transport.ts';
import { splitGenerate } from './user.ts';
import { SplitVolunteer } from './volunteer.ts';

let rig: TestRig;
let volunteerNode: SprintnetNode;
let userNode: SprintnetNode;

beforeAll(async () => {
  rig = await testRig();
  [volunteerNode, userNode] = await Promise.all([testNode(60, 'host', { listen: [LOOPBACK_WS] }), testNode(61, 'host', { listen: [LOOPBACK_WS] })]);
  await userNode.libp2p.dial(multiaddr(volunteerNode.multiaddrs().find((m) => m.includes('/ws/'))!));
});

afterAll(async () => {
  await Promise.all([volunteerNode, userNode].map((n) => n?.stop()));
});

describe('split inference over the network', () => {
  it('runs a session through NodeTransport and serveSplit, with the node keys as wallets', async () => {
    // The node's identity is its wallet: the same seed signs the receipt (volunteer) and the proof (user).
    const volunteer = new SplitVolunteer({
      model: rig.model,
      lowestK: 1,
      modelHash: rig.hash,
      normWeight: rig.norm,
      signer: seedSigner(new Uint8Array(32).fill(60)),
      networkId: NETWORK,
    });
    // Count what arrives as session frames (split-session, caller-sealed) and what as sealed calls (split-infer).
    const frames: Uint8Array[] = [];
    let calls = 0;
    await serveSplit(volunteerNode, {
      publicKey: volunteer.publicKey,
      handle: (r, peer, context) => (calls++, volunteer.handle(r, peer, context)),
      handleSession: (f, peer) => (frames.push(f.slice()), volunteer.handleSession(f, peer)),
    });
    const transport = new NodeTransport(userNode, volunteerNode.peerId);
    expect(transport.volunteerKey).toEqual(volunteer.publicKey);
    const prompt = rig.prompts[4]!;
    const out = await splitGenerate(prompt, {
      model: rig.model,
      k: 4,
      privacy: 'allow-split',
      modelHash: rig.hash,
      volunteers: [transport],
      thresholds: rig.calibration,
      signer: seedSigner(new Uint8Array(32).fill(61)),
      networkId: NETWORK,
      maxTokens: 8,
      eosTokenIds: [],
    });
    expect(out.tokens).toEqual((await generate(rig.model, prompt, { maxTokens: 8, eosTokenIds: [] })).tokens);
    const proof = out.segments[0]!.proof!;
    expect(checkProof(proof, NETWORK, () => ({ hash: rig.hash, config: rig.model.config, tau: rig.calibration.tau }), strictVerifier).ok).toBe(true);
    expect(volunteer.openSessions).toBe(0);
    // Only the open went through the layer's sealing; every step and the close came as frames under the session key.
    expect(calls).toBe(1);
    expect(frames.length).toBe(out.segments[0]!.steps.length + 1);
    expect(frames.every((f) => isFrame(f))).toBe(true);
    // A frame sent again is refused in the clear (typed), never served twice.
    const replay = decodeAnswer(await userNode.request(volunteerNode.peerId, SPLIT_SESSION_RPC_NAME, frames[1]!, { sealing: 'caller' }));
    expect(replay).toMatchObject({ kind: 'error', code: 'UNKNOWN_SESSION' });
  });
});
