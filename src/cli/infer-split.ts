/**
 * `sprintnet infer --split K`: the user's side of private split inference against an in-process
 * volunteer (docs/split-inference.md). Layers [0, k) and the sampling run here; the volunteer —
 * its own wallet key, its own KV caches on the same loaded model — gets only h_k through the sealed
 * in-memory link. Prints the text, each step's C_t / H_t / rewinds, the signed proof and what a
 * verifier makes of it (signatures, τ, a re-run of sampled steps, the CU and AΞ it would credit).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { ModelManifest } from '../llm/loader.ts';
import type { CausalLM } from '../llm/model-types.ts';
import type { ModelSource } from '../llm/source.ts';
import type { TextTokenizer } from '../llm/tokenizer.ts';
import { calibrate, DEFAULT_CALIBRATION_PROMPTS } from '../split/calibrate.ts';
import { modelHash } from '../split/digest.ts';
import { loadFinalNorm } from '../split/engines.ts';
import { localVolunteer, seedSigner, strictVerifier } from '../split/local.ts';
import type { MonitorThresholds } from '../split/metrics.ts';
import { checkProof, encodeProof, sampleSteps } from '../split/proof.ts';
import type { LedgerStanding, RankedVolunteer } from '../split/router-rank.ts';
import type { SplitTransport } from '../split/transport.ts';
import { isSplitError, SplitError } from '../split/errors.ts';
import { splitGenerate, type StepReport } from '../split/user.ts';
import { submitProof } from '../split/evidence.ts';
import { transportOfLastSegment } from '../app/split-failover.ts';
import { rankingRow } from './split-discover.ts';
import type { StandingSource } from './split-ledger.ts';
import { genesisHash, type Genesis } from '../protocol/genesis.ts';
import { checkConsistency, deriveCredits, effectiveBits } from '../split/verify.ts';

export interface SplitInferArgs {
  readonly model: CausalLM;
  readonly source: ModelSource;
  readonly manifest: ModelManifest;
  readonly tokenizer: TextTokenizer;
  readonly prompt: readonly number[];
  readonly k: number;
  readonly maxTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed: number;
  readonly precision: 'f32' | 'f16';
  readonly noise: number;
  /** τ and θ_H given on the command line; otherwise measured here first. */
  readonly thresholds: Partial<MonitorThresholds>;
  readonly json: boolean;
  /** Volunteers on the network instead of the in-process one: `--peer` names one, else they are found on `split-volunteer`. */
  readonly remote?: RemoteArgs;
  /** Each step as it is reported (tests: cutting a volunteer mid-generation). */
  readonly onStep?: (step: StepReport) => void;
}

export interface RemoteArgs {
  /** The manual pick; without it the announced volunteers are ranked. */
  readonly peer?: string;
  readonly relays: readonly string[];
  readonly networkId: string;
  /** How long to listen for announcements (default DEFAULT_WAIT_MS). */
  readonly waitMs?: number;
  /** Without `--peer`: the ledger to follow while listening (split-ledger.ts); its initial weights when no certified state comes. */
  readonly genesis?: Genesis;
  /** Where the followed ledger's certified states are kept (default split-ledger.ts defaultLedgerDir). */
  readonly ledgerDir?: string;
  /** Without a genesis: the caller's own word on a key (hex), for tests. */
  readonly standing?: (publicKeyHex: string) => LedgerStanding | undefined;
}

/** Our own node on the network, under the user's key (the volunteer authenticates it; the proof names it). */
async function userNode(r: RemoteArgs, userSeed: Uint8Array) {
  await import('../node/node-env.ts');
  const [{ SprintnetNode }, { defaultRegistry }, { identityFromEd25519Seed }] = await Promise.all([
    import('../node/node.ts'),
    import('../node/topics/index.ts'),
    import('../wallet/identity.ts'),
  ]);
  const node = await SprintnetNode.create({
    identity: await identityFromEd25519Seed(userSeed),
    role: 'host',
    label: 'split-user',
    registry: defaultRegistry(),
    // Calls go through the relay's circuit; a WebRTC upgrade dial racing the user's own dial to the same volunteer makes that dial fail.
    config: { networkId: r.networkId, relays: [...r.relays], listen: [], webrtcUpgrade: false },
  });
  await node.start();
  return node;
}

/** `--peer`: the user's manual pick, reached directly by its multiaddr or by peer id through a relay's circuit. */
async function connectVolunteer(r: RemoteArgs, peer: string, userSeed: Uint8Array, log: (s: string) => void) {
  const [{ multiaddr }, { NodeTransport }] = await Promise.all([import('@multiformats/multiaddr'), import('../split/transport.ts')]);
  const addrs = peer.startsWith('/') ? [peer] : r.relays.map((relay) => `${relay}/p2p-circuit/p2p/${peer}`);
  const peerId = peer.startsWith('/') ? peer.slice(peer.lastIndexOf('/p2p/') + 5) : peer;
  if (addrs.length === 0 || !/^[1-9A-HJ-NP-Za-km-z]+$/.test(peerId))
    throw new Error('--peer needs a multiaddr ending in /p2p/<peer id>, or a peer id and a --relay');
  const node = await userNode(r, userSeed);
  let last: unknown;
  for (const addr of addrs) {
    try {
      await node.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(15_000) });
      log(`connected to volunteer ${peerId.slice(-8)} via ${addr}\n`);
      return { node, transports: [new NodeTransport(node, peerId)] as SplitTransport[], ranking: [] as RankedVolunteer[], standing: null };
    } catch (e) {
      last = e;
    }
  }
  await node.stop();
  throw new Error(`cannot reach volunteer ${peer}: ${(last as Error)?.message}`);
}

/**
 * No `--peer`: the volunteers that announce this model and k, pinged and ranked by the ledger
 * followed meanwhile (or the genesis's initial weights, or the caller's lookup); the ranking is the failover order.
 */
async function findVolunteers(r: RemoteArgs, a: SplitInferArgs, modelHash: Uint8Array, userSeed: Uint8Array, log: (s: string) => void) {
  const [
    { discoverVolunteers, failoverTransports, rankingLine },
    { startLedgerSync, standingJson, standingLine, standingSourceName },
    { measureDecodeRate },
    { standingFromGenesis },
    { genesisHash },
  ] = await Promise.all([
    import('./split-discover.ts'),
    import('./split-ledger.ts'),
    import('../split/router.ts'),
    import('../app/split-route.ts'),
    import('../protocol/genesis.ts'),
  ]);
  const prefix = await measureDecodeRate(a.model, { toLayer: a.k });
  const node = await userNode(r, userSeed);
  const waitMs = r.waitMs ?? DEFAULT_WAIT_MS;
  const ledger = r.genesis ? startLedgerSync({ node, genesis: r.genesis, dataDir: r.ledgerDir, waitMs, log }) : undefined;
  try {
    log(`listening for volunteers of this model on split-volunteer${ledger ? ' and following the ledger' : ''} (up to ${(waitMs / 1000).toFixed(0)} s)…\n`);
    const found = await discoverVolunteers({
      node,
      relays: r.relays,
      modelHash,
      k: a.k,
      waitMs,
      standing: r.standing ?? standingFromGenesis(undefined),
      ledger,
      prefixTokensPerSecond: prefix,
      genesis: r.genesis ? genesisHash(r.genesis) : undefined,
      log,
    });
    const source: StandingSource =
      found.source ??
      (r.standing
        ? { kind: 'given', reason: "the caller's own standing lookup" }
        : { kind: 'none', reason: 'no --genesis, so no ledger to follow and no initial weights' });
    if (!found.source) log(standingLine(source));
    log(`ranking (layers [0, ${a.k}) here: ${prefix.toFixed(1)} tok/s):\n${found.ranked.map(rankingLine).join('')}`);
    const standing = { name: standingSourceName(source), record: standingJson(source) };
    return { node, transports: failoverTransports(node, found.order, r.relays) as SplitTransport[], ranking: found.ranked, standing };
  } catch (e) {
    await ledger?.cancel();
    await node.stop();
    throw e;
  }
}

/** How long `infer --split` without `--peer` listens for announcements (volunteers announce every 5 s). */
export const DEFAULT_WAIT_MS = 20_000;

const NETWORK = 'sprintnet-local';

/** "Every volunteer failed" names what each one did (a transport that keeps its last problem, ReachingTransport). */
async function withProblems<T>(transports: readonly SplitTransport[], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    const why = transports.flatMap((t) => ('lastProblem' in t && t.lastProblem ? [`${t.label}: ${String(t.lastProblem)}`] : []));
    if (isSplitError(e, 'NO_VOLUNTEER') && why.length > 0) throw new SplitError('NO_VOLUNTEER', `${e.message} (${why.join('; ')})`);
    throw e;
  }
}

export async function runSplitInference(a: SplitInferArgs): Promise<number> {
  const log = (s: string) => {
    if (!a.json) process.stderr.write(s);
  };
  const c = a.manifest.config;
  if (!Number.isInteger(a.k) || a.k < 1 || a.k >= c.numLayers)
    throw new Error(`--split must be a layer in [1, ${c.numLayers - 1}] for this ${c.numLayers}-layer model, got ${a.k}`);
  const hash = await modelHash(a.source, a.manifest);
  const norm = await loadFinalNorm(a.source, a.manifest);
  let thresholds: MonitorThresholds;
  let calibration: Awaited<ReturnType<typeof calibrate>> | null = null;
  if (a.thresholds.tau !== undefined && a.thresholds.maxEntropy !== undefined) thresholds = { tau: a.thresholds.tau, maxEntropy: a.thresholds.maxEntropy };
  else {
    log('measuring τ and θ_H (greedy decoding, unsplit, 8 prompts × 16 tokens)…\n');
    const prompts = DEFAULT_CALIBRATION_PROMPTS.map((p) =>
      a.tokenizer.hasChatTemplate ? a.tokenizer.encodeChat([{ role: 'user', content: p }]) : a.tokenizer.encode(p),
    );
    calibration = await calibrate(a.model, norm, prompts, 16);
    thresholds = { tau: a.thresholds.tau ?? calibration.tau, maxEntropy: a.thresholds.maxEntropy ?? calibration.maxEntropy };
  }
  log(
    `split at layer ${a.k} of ${c.numLayers}: layers [0, ${a.k}) here, [${a.k}, ${c.numLayers}) on ${a.remote ? (a.remote.peer ? `volunteer ${a.remote.peer}` : 'the best ranked announced volunteer') : 'an in-process volunteer'}; τ = ${thresholds.tau.toFixed(4)}, θ_H = ${thresholds.maxEntropy.toFixed(3)} nats\n`,
  );

  const userSeed = crypto.getRandomValues(new Uint8Array(32));
  const user = seedSigner(userSeed);
  const networkId = a.remote?.networkId ?? NETWORK;
  const remote = !a.remote
    ? null
    : a.remote.peer !== undefined
      ? await connectVolunteer(a.remote, a.remote.peer, userSeed, log)
      : await findVolunteers(a.remote, a, hash, userSeed, log);
  const v = remote ? null : localVolunteer({ model: a.model, lowestK: 1, modelHash: hash, normWeight: norm, networkId, userSeed });
  try {
    const result = await withProblems(remote?.transports ?? [], () =>
      splitGenerate(a.prompt, {
        model: a.model,
        k: a.k,
        privacy: 'allow-split',
        modelHash: hash,
        volunteers: remote ? remote.transports : [v!.link],
        thresholds,
        signer: user,
        networkId,
        // Following a genesis, sign only for a volunteer that publishes to it.
        ...(a.remote?.genesis ? { genesis: genesisHash(a.remote.genesis) } : {}),
        maxTokens: a.maxTokens,
        temperature: a.temperature,
        topP: a.topP,
        seed: a.seed,
        tokenizer: a.tokenizer,
        precision: a.precision,
        noise: a.noise,
        onStep: (s) => {
          a.onStep?.(s);
          if (a.json) return;
          if (s.phase === 'prefill') log(`  prefill ${s.positions} positions  H=${s.entropy.toFixed(3)}\n`);
          else
            log(
              `  step ${String(s.step).padStart(3)}  C=${s.cost.toFixed(4)}  H=${s.entropy.toFixed(3)}  rewinds=${s.rewinds}  ${s.precision}  ${JSON.stringify(a.tokenizer.decode([s.token!]))}\n`,
            );
        },
      }),
    );
    const segment = result.segments[result.segments.length - 1]!;
    const proof = segment.proof;
    let verification: Record<string, unknown> = { verified: false, reason: segment.unproven ?? 'no proof (a C_t over τ, or nothing to prove)' };
    if (proof) {
      const record = { hash, config: c, tau: thresholds.tau };
      const checked = checkProof(encodeProof(proof), networkId, () => record, strictVerifier);
      const sample = sampleSteps(proof, crypto.getRandomValues(new Uint8Array(32)), 8);
      const consistency = checked.ok ? await checkConsistency(proof, segment.evidence, sample, { model: a.model, normWeight: norm }) : null;
      const ok = checked.ok && consistency?.ok === true;
      const credit = deriveCredits([encodeProof(proof)], {
        networkId,
        models: () => record,
        verifier: strictVerifier,
        fromMs: proof.timestampMs,
        toMs: proof.timestampMs + 1,
        credited: new Set(),
        consistent: () => ok,
      }).credits[0];
      verification = {
        verified: ok,
        checks: checked.ok ? 'signatures, step structure, FLOPs and every C_t ≤ τ' : `${checked.reason}: ${checked.detail}`,
        sampled_steps: sample,
        consistency: consistency === null ? null : consistency.ok ? 'the re-run from h_k agrees' : `step ${consistency.step}: ${consistency.detail}`,
        volunteer: bytesToHex(proof.receipt.volunteer),
        // The one genesis whose ledger may credit it (the volunteer's), or null: a volunteer without a ledger.
        genesis: proof.receipt.genesis.every((b) => b === 0) ? null : bytesToHex(proof.receipt.genesis),
        flops: proof.receipt.flops.toString(),
        cu: credit?.cu ?? 0,
        effective_bits: effectiveBits(proof),
        a_xi_bits_per_tflop: credit?.aXi ?? 0,
      };
      // The volunteer publishes it to the ledger, where validators that hold the model re-run their own samples.
      const last = remote && transportOfLastSegment(result, remote.transports);
      if (last && ok) {
        verification.submitted = await submitProof(last, encodeProof(proof)).catch((e: unknown) => `not published: ${(e as Error).message}`);
      }
    }
    const decode = result.steps.filter((s) => s.phase === 'decode');
    const mean = (f: (s: (typeof decode)[number]) => number): number | null =>
      decode.length > 0 ? decode.reduce((n, s) => n + f(s), 0) / decode.length : null;
    const record = {
      model: a.source.label,
      test_model: a.manifest.isTestModel,
      split: a.k,
      layers: c.numLayers,
      precision: a.precision,
      noise: a.noise,
      thresholds,
      calibration,
      text: result.text,
      tokens: result.tokens.length,
      stopped_by: result.stoppedBy,
      rewinds: result.rewinds,
      steps: result.steps.map((s) => ({ phase: s.phase, positions: s.positions, c: s.cost, h: s.entropy, rewinds: s.rewinds, precision: s.precision })),
      request_bytes_per_token: mean((s) => s.requestBytes),
      answer_bytes_per_token: mean((s) => s.answerBytes),
      volunteer: remote ? (transportOfLastSegment(result, remote.transports)?.label ?? null) : 'in-process',
      ranking: remote ? remote.ranking.map(rankingRow) : null,
      standing_source: remote?.standing?.name ?? null,
      standing: remote?.standing?.record ?? null,
      switches: result.failovers,
      served: result.segments.map((seg) => seg.volunteer),
      sealed_bytes_sent: v?.link.bytesSent ?? null,
      sealed_bytes_received: v?.link.bytesReceived ?? null,
      decode_ms: result.decodeMs,
      user_key: bytesToHex(user.publicKey),
      proof: proof ? bytesToHex(encodeProof(proof)) : null,
      verification,
    };
    if (a.json) process.stdout.write(JSON.stringify(record) + '\n');
    else {
      process.stdout.write(result.text + '\n');
      log(
        `${result.tokens.length} tokens (${result.stoppedBy}), ${result.rewinds} rewinds${v ? `; sealed bytes sent ${v.link.bytesSent}, received ${v.link.bytesReceived}` : ''}\n`,
      );
      log(
        proof
          ? `proof (${encodeProof(proof).length} bytes, signed by ${bytesToHex(user.publicKey).slice(0, 16)}…): ${bytesToHex(encodeProof(proof)).slice(0, 64)}…\n`
          : 'no proof\n',
      );
      log(`verification: ${JSON.stringify(verification)}\n`);
    }
    return proof && verification.verified ? 0 : 1;
  } finally {
    await remote?.node.stop();
  }
}
