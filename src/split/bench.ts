/**
 * `npx tsx src/split/bench.ts [--rounds N] [--tokens N] [--k K] [--layers L] [--backend cpu|reference]`:
 * decode speed of split inference against local decoding of the same model in the same process,
 * and what each hop adds per step. Per round, interleaved: local `generate`, then split through
 * the in-process sealed link (MemoryLink), two libp2p nodes on loopback (direct websockets), and
 * to a volunteer reachable only through an in-process circuit relay (libp2p may move that
 * connection onto WebRTC signalled over the relay: the record says which connections existed);
 * and an unsealed in-process call (`plain`: the floor of any sealing). The in-process and direct
 * paths run twice: with the per-session key (the default) and with every call sealed on its own
 * (`sessionKey: false`: a key agreement per call), so the key's saving is measured in one process.
 * Decode rate = (decode steps − 1) / time between the first and last decode step; a step's time is
 * the gap between consecutive decode steps (layers [0, k) here, sampling, the call). Prints one
 * JSON record.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { ed25519 } from '@noble/curves/ed25519.js';
import { multiaddr } from '@multiformats/multiaddr';
import { rmSync } from 'node:fs';
import '../node/node-env.ts';
import { generate } from '../llm/generate.ts';
import type { CausalLM } from '../llm/model-types.ts';
import { writeTestModel } from '../llm/test-model-files.ts';
import { tempDir } from '../llm/test-support.ts';
import { SprintnetNode } from '../node/node.ts';
import { LOOPBACK_WS, waitFor } from '../node/test-helpers.ts';
import { open, requesterKeys, responderKeys, seal } from '../node/sealed-box.ts';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import { calibrate, DEFAULT_CALIBRATION_PROMPTS } from './calibrate.ts';
import { modelHash } from './digest.ts';
import { loadFinalNorm } from './engines.ts';
import { localVolunteer, seedSigner } from './local.ts';
import { deriveSessionKeys, sessionEphemeral, UserChannel, VolunteerChannel } from './session-key.ts';
import { NodeTransport, serveSplit, type SplitTransport } from './transport.ts';
import { splitGenerate } from './user.ts';
import { SplitVolunteer } from './volunteer.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const rounds = Number(arg('rounds', '3'));
const tokens = Number(arg('tokens', '32'));
const k = Number(arg('k', '4'));
const layers = Number(arg('layers', '8'));
const backend = arg('backend', 'cpu') as 'cpu' | 'reference';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seed = (n: number) => new Uint8Array(32).fill(n);

async function loadModel(
  dir: string,
): Promise<{ model: CausalLM; destroy(): void; source: import('../llm/source.ts').ModelSource; manifest: import('../llm/loader.ts').ModelManifest }> {
  const { DirectorySource } = await import('../llm/node-source.ts');
  const source = new DirectorySource(dir);
  if (backend === 'reference') {
    const { loadReference } = await import('../llm/loader.ts');
    const { model, manifest } = await loadReference(source);
    return { model, manifest, source, destroy: () => {} };
  }
  const [{ loadLanguageModel }, { nodeSpawner }] = await Promise.all([import('../llm/cpu-select.ts'), import('../cpu/threads-node.ts')]);
  const { model } = await loadLanguageModel(source, { backend: 'cpu', gpu: null, spawner: nodeSpawner, maxContext: 4096 });
  return { model: model as CausalLM, manifest: model.manifest, source, destroy: () => model.destroy() };
}

async function node(n: number, role: 'host' | 'relay', relays: string[] = [], listen = [LOOPBACK_WS], webrtcUpgrade = false): Promise<SprintnetNode> {
  const x = await SprintnetNode.create({
    identity: await identityFromEd25519Seed(seed(n)),
    role,
    label: `bench-${n}`,
    config: { listen, relays, webrtcUpgrade, presenceIntervalMs: 500 },
  });
  await x.start();
  return x;
}

/**
 * The sealing alone, per step, in this process: a request of `up` bytes and an answer of `down`
 * bytes sealed and opened on both sides, per call (key agreement on each side, as src/node does)
 * vs under a session key (session-key.ts). Median over batches of ms per step.
 */
function sealingCost(up: number, down: number): { per_call_ms: number; session_key_ms: number } {
  const user = seed(92);
  const vol = seed(93);
  const userPub = ed25519.getPublicKey(user);
  const volPub = ed25519.getPublicKey(vol);
  const protocol = '/sprintnet/bench/rpc/split-infer/1';
  const request = new Uint8Array(up).fill(1);
  const answer = new Uint8Array(down).fill(2);
  const a = sessionEphemeral();
  const b = sessionEphemeral();
  const id = new Uint8Array(16).fill(7);
  const keys = deriveSessionKeys(a.secret, b.publicKey, {
    sessionId: id,
    user: userPub,
    volunteer: volPub,
    userEphemeral: a.publicKey,
    volunteerEphemeral: b.publicKey,
  });
  const u = new UserChannel(id, keys);
  const v = new VolunteerChannel(id, keys);
  const perCall = () => {
    const k = requesterKeys(user, volPub, protocol);
    const r = responderKeys(vol, userPub, k.ephemeralPublic, protocol);
    open(r.requestKey, seal(k.requestKey, request, protocol), protocol);
    open(k.responseKey, seal(r.responseKey, answer, protocol), protocol);
  };
  const keyed = () => {
    const sent = u.seal(request);
    const got = v.open(sent.frame);
    u.open(v.seal(answer, got.counter), sent.counter);
  };
  const time = (f: () => void): number => {
    const batches: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      for (let j = 0; j < 50; j++) f();
      batches.push((performance.now() - t) / 50);
    }
    return median(batches);
  };
  time(perCall);
  time(keyed);
  return { per_call_ms: time(perCall), session_key_ms: time(keyed) };
}

async function main(): Promise<void> {
  const dir = tempDir('sprintnet-split-bench-');
  writeTestModel(dir, { layers, seed: 1 });
  const { model, manifest, source, destroy } = await loadModel(dir);
  const hash = await modelHash(source, manifest);
  const norm = await loadFinalNorm(source, manifest);
  const tokenizer = manifest.tokenizer!;
  const prompt = tokenizer.encodeChat([{ role: 'user', content: DEFAULT_CALIBRATION_PROMPTS[0]! }]);
  const thresholds = await calibrate(
    model,
    norm,
    DEFAULT_CALIBRATION_PROMPTS.slice(0, 2).map((p) => tokenizer.encodeChat([{ role: 'user', content: p }])),
    tokens,
  );
  // Generous thresholds: the bench measures speed, and a rewind would add a step.
  const monitor = { tau: 2, maxEntropy: 100 };
  void thresholds;

  const relay = await node(90, 'relay');
  const relayAddr = relay.multiaddrs().find((m) => m.includes('/ws/'))!;
  // The relayed volunteer listens on nothing but its relay reservation (as behind a NAT): libp2p would
  // otherwise move a relayed connection onto a direct websocket as soon as identify told it one.
  const [vNode, rNode, uNode] = await Promise.all([node(91, 'host'), node(94, 'host', [relayAddr], []), node(92, 'host')]);
  const volunteer = new SplitVolunteer({ model, lowestK: 1, modelHash: hash, normWeight: norm, signer: seedSigner(seed(91)), networkId: 'sprintnet-local' });
  await serveSplit(vNode, volunteer);
  const relayedVolunteer = new SplitVolunteer({
    model,
    lowestK: 1,
    modelHash: hash,
    normWeight: norm,
    signer: seedSigner(seed(94)),
    networkId: 'sprintnet-local',
  });
  await serveSplit(rNode, relayedVolunteer);
  await waitFor(() => rNode.multiaddrs().some((m) => m.includes('/p2p-circuit')), 20_000, 'a relay reservation');

  async function split(t: SplitTransport, sessionKey = true): Promise<{ rate: number; stepMs: number; tokens: number[] }> {
    const at: number[] = [];
    const out = await splitGenerate(prompt, {
      model,
      k,
      privacy: 'allow-split',
      modelHash: hash,
      volunteers: [t],
      thresholds: monitor,
      signer: seedSigner(seed(92)),
      networkId: 'sprintnet-local',
      maxTokens: tokens,
      eosTokenIds: [],
      sessionKey,
      onStep: (s) => void (s.phase === 'decode' && at.push(performance.now())),
    });
    const gaps = at.slice(1).map((x, i) => x - at[i]!);
    return { rate: (at.length - 1) / ((at.at(-1)! - at[0]!) / 1000), stepMs: median(gaps), tokens: out.tokens };
  }

  const direct = async () => {
    await uNode.libp2p.dial(multiaddr(vNode.multiaddrs().find((m) => m.includes('/ws/') && !m.includes('p2p-circuit'))!));
    return new NodeTransport(uNode, vNode.peerId);
  };
  const relayed = async () => {
    const circuit = await uNode.libp2p.dial(multiaddr(`${relayAddr}/p2p-circuit/p2p/${rNode.peerId}`));
    if (!circuit.remoteAddr.toString().includes('p2p-circuit')) throw new Error('the relayed dial did not go through the relay');
    return new NodeTransport(uNode, rNode.peerId);
  };

  // h_k of one position up (f32) plus the step header, the logits down plus the answer header.
  const sealing = sealingCost(manifest.config.hiddenSize * 4 + 70, manifest.config.vocabSize * 4 + 47);
  const rows: Record<string, number>[] = [];
  let same = true;
  const relayKinds = new Set<string>();
  for (let r = 0; r < rounds; r++) {
    const local = await generate(model, prompt, { maxTokens: tokens, eosTokenIds: [] });
    const plain = await split({ volunteerKey: volunteer.publicKey, label: 'plain', call: (req) => volunteer.handle(req, seedSigner(seed(92)).publicKey) });
    const memoryLink = () =>
      localVolunteer({ model, lowestK: 1, modelHash: hash, normWeight: norm, networkId: 'sprintnet-local', userSeed: seed(92), seed: seed(93) }).link;
    // Keyed and per-call runs of the same path alternate which goes first, so neither always gets the warmer process.
    const pair = async (path: () => Promise<SplitTransport>) => {
      if (r % 2 === 0) {
        const keyed = await split(await path());
        return { keyed, perCall: await split(await path(), false) };
      }
      const perCall = await split(await path(), false);
      return { keyed: await split(await path()), perCall };
    };
    const { keyed: mem, perCall: memPerCall } = await pair(async () => memoryLink());
    const { keyed: p2p, perCall: p2pPerCall } = await pair(direct);
    const viaRelay = await split(await relayed());

    // The relayed figure counts only if every connection to the volunteer was still the circuit at the end (no direct upgrade).
    // libp2p moves a relayed (limited) connection onto WebRTC signalled over the relay when it can: say which carried the calls.
    for (const c of uNode.libp2p.getConnections(peerIdFromString(rNode.peerId)))
      relayKinds.add(c.remoteAddr.toString().includes('/webrtc') ? 'webrtc' : 'circuit');
    same &&= [plain, mem, p2p, viaRelay, memPerCall, p2pPerCall].every((x) => x.tokens.join() === local.tokens.join());
    rows.push({
      local_tok_s: local.decodeTokensPerSecond,
      plain_tok_s: plain.rate,
      plain_step_ms: plain.stepMs,
      memory_tok_s: mem.rate,
      libp2p_tok_s: p2p.rate,
      relay_tok_s: viaRelay.rate,
      memory_step_ms: mem.stepMs,
      libp2p_step_ms: p2p.stepMs,
      relay_step_ms: viaRelay.stepMs,
      memory_per_call_step_ms: memPerCall.stepMs,
      libp2p_per_call_step_ms: p2pPerCall.stepMs,
    });
  }
  const col = (key: string) => rows.map((x) => x[key]!);
  const range = (key: string) => [Math.min(...col(key)), Math.max(...col(key))];
  const ratio = (key: string) => rows.map((x) => x[key]! / x.local_tok_s!);
  process.stdout.write(
    JSON.stringify({
      model: { layers, hidden: manifest.config.hiddenSize, vocab: manifest.config.vocabSize, backend, k },
      rounds,
      tokens,
      same_tokens_as_local: same,
      sealing_only_ms_per_step: sealing,
      relay_connections_at_end: [...relayKinds].sort(),
      local_tok_s: range('local_tok_s'),
      split_tok_s: { plain: range('plain_tok_s'), memory: range('memory_tok_s'), libp2p_direct: range('libp2p_tok_s'), libp2p_relay: range('relay_tok_s') },
      ratio_vs_local: {
        plain: [Math.min(...ratio('plain_tok_s')), Math.max(...ratio('plain_tok_s'))],
        memory: [Math.min(...ratio('memory_tok_s')), Math.max(...ratio('memory_tok_s'))],
        libp2p_direct: [Math.min(...ratio('libp2p_tok_s')), Math.max(...ratio('libp2p_tok_s'))],
        libp2p_relay: [Math.min(...ratio('relay_tok_s')), Math.max(...ratio('relay_tok_s'))],
      },
      median_step_ms: {
        plain: median(col('plain_step_ms')),
        memory: median(col('memory_step_ms')),
        libp2p_direct: median(col('libp2p_step_ms')),
        libp2p_relay: median(col('relay_step_ms')),
      },
      per_call_sealing_median_step_ms: { memory: median(col('memory_per_call_step_ms')), libp2p_direct: median(col('libp2p_per_call_step_ms')) },
      session_key_saves_ms_per_step: {
        memory: median(col('memory_per_call_step_ms')) - median(col('memory_step_ms')),
        libp2p_direct: median(col('libp2p_per_call_step_ms')) - median(col('libp2p_step_ms')),
      },
      added_ms_per_step_vs_memory: {
        libp2p_direct: median(col('libp2p_step_ms')) - median(col('memory_step_ms')),
        libp2p_relay: median(col('relay_step_ms')) - median(col('memory_step_ms')),
      },
      rows,
    }) + '\n',
  );
  await Promise.all([vNode, rNode, uNode, relay].map((x) => x.stop()));
  destroy();
  rmSync(dir, { recursive: true, force: true });
}

await main();
process.exit(0);
