/**
 * The user's side of split inference: layers [0, k) on this device with its own KV cache, h_k to a
 * volunteer one position at a time, logits back, the next token sampled here. Token ids and text
 * never leave this file's caller: the only thing a request carries is h_k (docs/split-inference.md).
 *
 * The Monitoring Layer runs on every decode step: C_t > τ or H_t > θ_H rejects the step. Both KV
 * caches drop the step's entry (the user's by its length, the volunteer's by a rewind request);
 * then a reduced-precision (f16) step is recomputed in f32 with the same token, and an f32 step is
 * resampled: the token that led into it is masked out of the previous step's distribution and the
 * sampler draws again, at most MAX_RESAMPLES times, after which generation stops ('fragmented').
 *
 * Failover: the user keeps every h_k it sent. When a volunteer's link fails or it answers with a
 * failure, the next volunteer gets a new session, the history as prefill chunks, and the step that
 * failed; generation goes on where it was.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { KvCache } from '../llm/model-types.ts';
import { checkSampling, sampleToken, SeededRandom, type SamplingOptions } from '../llm/sampling.ts';
import { StreamingDecoder, type TextTokenizer } from '../llm/tokenizer.ts';
import {
  decodeAnswer,
  decodeFloats,
  encodeFloats,
  encodeRequest,
  fitsF16,
  Phase,
  Precision,
  type SplitAnswer,
  type SplitRequest,
  type SteppedAnswer,
} from './codec.ts';
import { MAX_POSITIONS_PER_REQUEST, MAX_RESAMPLES, SESSION_ID_BYTES } from './constants.ts';
import type { SplitModel } from './engines.ts';
import { isSplitError, SplitError } from './errors.ts';
import { SessionTranscript } from './transcript.ts';
import { entropy, type MonitorThresholds } from './metrics.ts';
import { deriveSessionKeys, isFrame, sessionEphemeral, UserChannel } from './session-key.ts';
import { decodeReceipt, NO_GENESIS, signProof, type ComputeProof, type ProofSigner, type Receipt, type StepRecord } from './proof.ts';
import type { PrivacyChoice } from './router.ts';
import { PeerGoneError, RequestError } from '../node/errors.ts';
import { isLinkFailure, type SplitTransport } from './transport.ts';
import type { Evidence } from './verify.ts';

export interface SplitGenerateOptions<K extends KvCache> extends SamplingOptions {
  /** Holds layers [0, k) at least. */
  readonly model: SplitModel<K>;
  readonly k: number;
  readonly modelHash: Uint8Array;
  /** The user's choice, checked before anything is computed: 'device-only' refuses to send h_k (SplitError PRIVACY). */
  readonly privacy: PrivacyChoice;
  /** In order of preference (weight, reputation, latency: router.ts); later ones are failovers. */
  readonly volunteers: readonly SplitTransport[];
  readonly thresholds: MonitorThresholds;
  /** Signs the proof: the user's wallet. Its key must be the one the transports authenticate. */
  readonly signer: ProofSigner;
  readonly networkId: string;
  /**
   * The genesis hash of the ledger this user follows: a proof is signed only for a receipt that
   * names it, so the user never credits a session in a ledger it does not follow. Left out, the
   * user signs the genesis the volunteer names.
   */
  readonly genesis?: Uint8Array;
  readonly maxTokens: number;
  readonly eosTokenIds?: readonly number[];
  readonly tokenizer?: TextTokenizer | null;
  /** 'f16' halves the bytes of h_k and logits; a rejected f16 step is recomputed in f32. */
  readonly precision?: 'f32' | 'f16';
  /** Privacy mitigation: Gaussian noise of σ = noise × RMS(row) added to each h_k row before it leaves. */
  readonly noise?: number;
  /** Seed of the noise (default: from crypto.getRandomValues: the volunteer must not predict it). */
  readonly noiseSeed?: number;
  readonly maxContext?: number;
  readonly now?: () => number;
  readonly onStep?: (step: StepReport) => void;
  /** Random session ids (default crypto.getRandomValues). */
  readonly randomBytes?: (n: number) => Uint8Array;
  /**
   * Seal step, rewind and close under a per-session key (session-key.ts) where the transport and
   * the volunteer take session frames (default true); false seals every call on its own.
   */
  readonly sessionKey?: boolean;
  /**
   * Pause before the one retry of a volunteer whose open failed before it answered (default 500 ms);
   * see `CONNECT_RETRIES`.
   */
  readonly connectRetryMs?: number;
}

export interface StepReport {
  /** Index of the accepted step in its volunteer's session. */
  readonly step: number;
  readonly volunteer: string;
  readonly phase: 'prefill' | 'decode';
  readonly positions: number;
  readonly cost: number;
  readonly entropy: number;
  /** Attempts rejected before this one. */
  readonly rewinds: number;
  readonly precision: 'f32' | 'f16';
  /** The token this step's logits chose (user-side only; never sent). */
  readonly token: number | null;
  /** Plaintext bytes of the step's request and answer (sealing adds 40 to each). */
  readonly requestBytes: number;
  readonly answerBytes: number;
}

export interface Segment {
  readonly volunteer: string;
  readonly volunteerKey: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly steps: readonly StepRecord[];
  /** The signed proof, when the session closed with a matching receipt and every decode C_t ≤ τ. */
  readonly proof: ComputeProof | null;
  /** Why there is no proof. */
  readonly unproven?: string;
  readonly flops: bigint;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** Kept to answer a verifier's request (verify.ts checkConsistency). */
  readonly evidence: Evidence;
}

export type SplitStop = 'eos' | 'max-tokens' | 'context-full' | 'fragmented';

export interface SplitGenerateResult {
  readonly tokens: number[];
  readonly text: string;
  readonly stoppedBy: SplitStop;
  readonly steps: StepReport[];
  readonly rewinds: number;
  readonly failovers: number;
  /** Opens tried again on the same volunteer after a failure to reach it (`CONNECT_RETRIES`). */
  readonly reconnects: number;
  readonly segments: Segment[];
  /** Logits of every accepted step (prefill: the last chunk's), for tests and quality measurements. */
  readonly logits: Float32Array[];
  /** The user's KV-cache length at the end. */
  readonly userCacheLength: number;
  readonly decodeMs: number;
}

interface Live {
  readonly transport: SplitTransport;
  readonly sessionId: Uint8Array;
  readonly transcript: SessionTranscript;
  bytesSent: number;
  bytesReceived: number;
  /** Sizes of the last call. */
  lastRequest: number;
  lastAnswer: number;
  /** The session key's channel, when the volunteer agreed to one at open. */
  readonly channel: UserChannel | null;
}

/** A volunteer that cannot go on (link failure, or an answer that makes no sense): try the next one. */
class VolunteerLost extends Error {}

/**
 * Times an open is tried again on the same volunteer when it failed before the volunteer said
 * anything: a dial or stream that failed (a WebRTC connection dying under the call, a relay circuit
 * not up yet) says nothing about the volunteer, and the next attempt may take a fresh path. A
 * timeout (it may be busy or gone: another 30 s would be lost), a remote error, a malformed
 * answer or a typed refusal are the volunteer's answer and mean switch.
 */
export const CONNECT_RETRIES = 1;

/** `cannot reach …` (no stream opened) or a stream that closed or reset before the answer; not a timeout, abort or remote error. */
const failedToConnect = (e: unknown): boolean => e instanceof PeerGoneError || (e instanceof Error && e.constructor === RequestError);

/**
 * The session key from our ephemeral secret and the volunteer's ephemeral key in its opened answer.
 * A volunteer may decline one (it is not served where frames can reach it): the session is then
 * sealed per call. One that sends a key we did not ask for, or an unusable key, is lost.
 */
function channelFor(
  t: SplitTransport,
  user: Uint8Array,
  sessionId: Uint8Array,
  ephemeral: { readonly secret: Uint8Array; readonly publicKey: Uint8Array } | null,
  theirs: Uint8Array | undefined,
): UserChannel | null {
  if (!theirs) return null;
  if (!ephemeral) throw new VolunteerLost(`${t.label} answered a session key nobody asked for`);
  try {
    const keys = deriveSessionKeys(ephemeral.secret, theirs, {
      sessionId,
      user,
      volunteer: t.volunteerKey,
      userEphemeral: ephemeral.publicKey,
      volunteerEphemeral: theirs,
    });
    return new UserChannel(sessionId, keys);
  } catch (e) {
    throw new VolunteerLost(`${t.label} sent an unusable session key: ${(e as Error).message}`, { cause: e });
  }
}

/** The answer frame opened under the session key; a refusal in the clear passes as it is, anything else in the clear is lost. */
function unsealAnswer(t: SplitTransport, channel: UserChannel, answer: Uint8Array, counter: number): Uint8Array {
  try {
    if (isFrame(answer)) return channel.open(answer, counter);
    if (decodeAnswer(answer).kind === 'error') return answer;
  } catch (e) {
    throw new VolunteerLost(`${t.label} sent a bad session frame: ${(e as Error).message}`, { cause: e });
  }
  throw new VolunteerLost(`${t.label} answered a session frame in the clear`);
}

const precisionName = (p: Precision): 'f32' | 'f16' => (p === Precision.f16 ? 'f16' : 'f32');

export async function splitGenerate<K extends KvCache>(prompt: readonly number[], o: SplitGenerateOptions<K>): Promise<SplitGenerateResult> {
  if (o.privacy !== 'allow-split') throw new SplitError('PRIVACY', 'the user chose "on this device only": h_k is not sent');
  checkSampling(o);
  const c = o.model.config;
  const D = c.hiddenSize;
  if (!Number.isInteger(o.k) || o.k < 1 || o.k >= c.numLayers) throw new SplitError('BAD_ARGUMENT', `split layer ${o.k} is not in [1, ${c.numLayers})`);
  if (prompt.length === 0) throw new SplitError('BAD_ARGUMENT', 'the prompt has no tokens');
  if (!Number.isInteger(o.maxTokens) || o.maxTokens < 1) throw new SplitError('BAD_ARGUMENT', `maxTokens must be a positive integer, got ${o.maxTokens}`);
  if (o.volunteers.length === 0) throw new SplitError('NO_VOLUNTEER', 'no volunteer to split with');
  const randomBytes = o.randomBytes ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
  const now = o.now ?? Date.now;
  const eos = new Set(o.eosTokenIds ?? c.eosTokenIds);
  const rng = new SeededRandom(o.seed ?? 0);
  const noiseRng = new SeededRandom(o.noiseSeed ?? new DataView(randomBytes(4).buffer).getUint32(0, true));
  const wanted = o.precision === 'f16' ? Precision.f16 : Precision.f32;
  const maxContext = o.maxContext ?? Math.min(prompt.length + o.maxTokens, c.maxPositions);
  const cache = o.model.createKvCache({ toLayer: o.k, maxContext });
  const decoder = o.tokenizer ? new StreamingDecoder(o.tokenizer) : null;

  /** h_k rows as sent (after noise, as the wire rounded them): the failover history. */
  const history: Float32Array[] = [];
  const steps: StepReport[] = [];
  const logitsKept: Float32Array[] = [];
  const segments: Segment[] = [];
  const tokens: number[] = [];
  let text = '';
  let rewinds = 0;
  let failovers = 0;
  let reconnects = 0;
  let next = 0; // index of the next volunteer to try
  let live: Live | null = null;

  const call = async (t: SplitTransport, m: SplitRequest, l: Live | null): Promise<SplitAnswer> => {
    let bytes: Uint8Array;
    const request = encodeRequest(m);
    const channel = l?.channel && (m.kind === 'step' || m.kind === 'rewind' || m.kind === 'close') ? l.channel : null;
    try {
      if (channel) {
        t.observe?.(request);
        const sealed = channel.seal(request);
        const answer = await t.callSession!(sealed.frame);
        bytes = unsealAnswer(t, channel, answer, sealed.counter);
      } else bytes = await t.call(request);
    } catch (e) {
      if (isLinkFailure(e)) throw new VolunteerLost(`${t.label}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      throw e;
    }
    if (l) {
      l.bytesSent += request.length;
      l.bytesReceived += bytes.length;
      l.lastRequest = request.length;
      l.lastAnswer = bytes.length;
    }
    let a: SplitAnswer;
    try {
      a = decodeAnswer(bytes);
    } catch (e) {
      throw new VolunteerLost(`${t.label} sent a malformed answer: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    if (a.kind === 'error') {
      // A volunteer that cannot serve (engine failure, lost session, full) is replaced; a refusal of our own mistake is not.
      if (['VOLUNTEER_FAILED', 'UNKNOWN_SESSION', 'LIMIT', 'WRONG_MODEL'].includes(a.code)) throw new VolunteerLost(`${t.label}: ${a.code} ${a.message}`);
      throw new SplitError(a.code, `${t.label}: ${a.message}`);
    }
    return a;
  };

  const toWire = (rows: Float32Array[], precision: Precision): { bytes: Uint8Array; precision: Precision } => {
    const flat = new Float32Array(rows.length * D);
    rows.forEach((r, i) => flat.set(r, i * D));
    const p = precision === Precision.f16 && !fitsF16(flat) ? Precision.f32 : precision;
    return { bytes: encodeFloats(flat, p), precision: p };
  };

  /** One step on the live session: send rows, check and record the answer. */
  const sendStep = async (
    rows: Float32Array[],
    position: number,
    phase: Phase,
    precision: Precision,
  ): Promise<{ answer: SteppedAnswer; logits: Float32Array; precision: Precision }> => {
    const l = live!;
    const step = l.transcript.steps.length;
    const wire = toWire(rows, precision);
    const a = await call(
      l.transport,
      {
        kind: 'step',
        sessionId: l.sessionId,
        modelHash: o.modelHash,
        k: o.k,
        step,
        position,
        count: rows.length,
        phase,
        precision: wire.precision,
        hidden: wire.bytes,
      },
      l,
    );
    if (a.kind !== 'stepped' || a.step !== step || a.position !== position || !sameBytes(a.sessionId, l.sessionId))
      throw new VolunteerLost(`${l.transport.label} answered another step`);
    const logits = decodeFloats(a.logits, a.precision, 'logits');
    if (logits.length !== c.vocabSize) throw new VolunteerLost(`${l.transport.label} sent ${logits.length} logits, the vocabulary has ${c.vocabSize}`);
    // H_t is a function of the logits we hold: a volunteer that misreports it is caught here.
    if (entropy(logits) !== a.entropy) throw new VolunteerLost(`${l.transport.label} reported H_t ${a.entropy}, the logits give ${entropy(logits)}`);
    if (phase === Phase.prefill && a.cost !== 0) throw new VolunteerLost(`${l.transport.label} reported C_t on a prefill step`);
    l.transcript.accept({
      step,
      position,
      count: rows.length,
      phase,
      precision: wire.precision,
      hkWire: wire.bytes,
      logitsWire: a.logits,
      cost: a.cost,
      entropy: a.entropy,
    });
    return { answer: a, logits, precision: wire.precision };
  };

  /** A new session on the next volunteer, rebuilt from the history but its `pending` last rows. */
  const connect = async (pending: number): Promise<void> => {
    let retries = 0;
    while (next < o.volunteers.length) {
      const transport = o.volunteers[next++]!;
      const sessionId = randomBytes(SESSION_ID_BYTES);
      // The session key's ephemeral half travels inside the sealed open; the secret never leaves this function's session.
      const ephemeral = o.sessionKey !== false && transport.callSession ? sessionEphemeral() : null;
      try {
        const opened = await call(
          transport,
          { kind: 'open', sessionId, modelHash: o.modelHash, k: o.k, maxContext, ...(ephemeral ? { sessionKey: ephemeral.publicKey } : {}) },
          null,
        );
        if (opened.kind !== 'opened' || opened.numLayers !== c.numLayers || opened.hiddenSize !== D || opened.vocab !== c.vocabSize)
          throw new VolunteerLost(`${transport.label} opened a session for another model shape`);
        live = {
          channel: channelFor(transport, o.signer.publicKey, sessionId, ephemeral, opened.sessionKey),
          transport,
          sessionId,
          transcript: new SessionTranscript(c, o.k),
          bytesSent: 0,
          bytesReceived: 0,
          lastRequest: 0,
          lastAnswer: 0,
        };
        // Prefill chunks of the rows as first sent (noise and rounding included), so the new cache equals the lost one.
        const rebuilt = history.length - pending;
        for (let i = 0; i < rebuilt; i += MAX_POSITIONS_PER_REQUEST) {
          const rows = history.slice(i, Math.min(rebuilt, i + MAX_POSITIONS_PER_REQUEST));
          const r = await sendStep(rows, i, Phase.prefill, Precision.f32);
          report(r.answer, Phase.prefill, rows.length, r.precision, null);
        }
        return;
      } catch (e) {
        if (!(e instanceof VolunteerLost)) throw e;
        // The open itself failed on the link (a session, once live, has had the volunteer's answer).
        const unreached = live === null && failedToConnect(e.cause);
        abandon(e.message);
        if (unreached && retries < CONNECT_RETRIES) {
          retries++;
          reconnects++;
          next--;
          await new Promise((r) => setTimeout(r, o.connectRetryMs ?? 500));
          continue;
        }
        retries = 0;
      }
    }
    throw new SplitError('NO_VOLUNTEER', 'every volunteer failed');
  };

  const abandon = (why: string): void => {
    if (!live) return;
    segments.push(segmentOf(live, null, why));
    live = null;
  };

  const segmentOf = (l: Live, proof: ComputeProof | null, unproven?: string): Segment => ({
    volunteer: l.transport.label,
    volunteerKey: l.transport.volunteerKey,
    sessionId: l.sessionId,
    steps: l.transcript.steps.slice(),
    proof,
    ...(unproven ? { unproven } : {}),
    flops: l.transcript.flops,
    bytesSent: l.bytesSent,
    bytesReceived: l.bytesReceived,
    evidence: {
      hk: l.transcript.hkWire.slice(),
      outLeaves: l.transcript.outLeaves.slice(),
      logits: new Map(l.transcript.logitsWire.map((b, i) => [i, b])),
    },
  });

  const report = (a: SteppedAnswer, phase: Phase, positions: number, precision: Precision, token: number | null): void => {
    const r: StepReport = {
      step: a.step,
      volunteer: live!.transport.label,
      phase: phase === Phase.prefill ? 'prefill' : 'decode',
      positions,
      cost: a.cost,
      entropy: a.entropy,
      rewinds: live!.transcript.steps[a.step]!.rewinds,
      precision: precisionName(precision),
      token,
      requestBytes: live!.lastRequest,
      answerBytes: live!.lastAnswer,
    };
    steps.push(r);
    o.onStep?.(r);
  };

  /** Runs one step, failing over as often as needed; the rows are already in `history`. */
  const robustStep = async (rows: Float32Array[], phase: Phase, precision: Precision) => {
    while (true) {
      if (!live) await connect(rows.length);
      try {
        return await sendStep(rows, history.length - rows.length, phase, precision);
      } catch (e) {
        if (!(e instanceof VolunteerLost)) throw e;
        abandon(e.message);
        failovers++;
      }
    }
  };

  const noisy = (row: Float32Array): Float32Array => {
    if (!o.noise) return row;
    let ss = 0;
    for (const v of row) ss += v * v;
    const sigma = o.noise * Math.sqrt(ss / row.length);
    return row.map((v) => v + sigma * noiseRng.normal());
  };

  /** What the volunteer will see of a row: noise added and wire-rounded, so the history resends it bit for bit. */
  const asSent = (row: Float32Array, precision: Precision): Float32Array => {
    const wire = toWire([row], precision);
    return decodeFloats(wire.bytes, wire.precision, 'h_k');
  };

  const start = performance.now();
  // Prefill: the prompt through [0, k) here, its h_k in chunks.
  const pre = await o.model.forward({ tokens: prompt, toLayer: o.k, kvCache: cache, logits: 'none' });
  if (!pre.hidden) throw new SplitError('BAD_ARGUMENT', 'the model returned no hidden state for [0, k)');
  const promptRows: Float32Array[] = [];
  for (let t = 0; t < prompt.length; t++) promptRows.push(asSent(noisy(Float32Array.from(pre.hidden.subarray(t * D, (t + 1) * D))), Precision.f32));
  let logits: Float32Array = new Float32Array(0);
  for (let i = 0; i < promptRows.length; i += MAX_POSITIONS_PER_REQUEST) {
    const rows = promptRows.slice(i, i + MAX_POSITIONS_PER_REQUEST);
    history.push(...rows);
    const r = await robustStep(rows, Phase.prefill, Precision.f32);
    logits = r.logits;
    report(r.answer, Phase.prefill, rows.length, r.precision, null);
  }
  logitsKept.push(logits);

  let stoppedBy: SplitStop = 'max-tokens';
  const masked = new Set<number>();
  let resamples = 0;
  /** A token whose f16 step was rejected: it goes again, in f32. */
  let pinned: number | null = null;
  while (true) {
    const retryInF32 = pinned !== null;
    const token: number = pinned ?? sampleToken(masked.size === 0 ? logits : logits.map((v, i) => (masked.has(i) ? -Infinity : v)), o, rng);
    pinned = null;
    if (eos.has(token)) {
      stoppedBy = 'eos';
      break;
    }
    if (cache.length >= maxContext) {
      stoppedBy = 'context-full';
      break;
    }
    const out = await o.model.forward({ tokens: [token], toLayer: o.k, kvCache: cache, logits: 'none' });
    const row = asSent(noisy(Float32Array.from(out.hidden!)), retryInF32 ? Precision.f32 : wanted);
    history.push(row);
    const r = await robustStep([row], Phase.decode, retryInF32 ? Precision.f32 : wanted);
    if (r.answer.cost > o.thresholds.tau || r.answer.entropy > o.thresholds.maxEntropy) {
      rewinds++;
      await rewindLast(r.answer.step);
      if (r.precision === Precision.f16) {
        pinned = token;
        continue;
      }
      if (resamples >= MAX_RESAMPLES) {
        stoppedBy = 'fragmented';
        break;
      }
      resamples++;
      masked.add(token);
      continue;
    }
    masked.clear();
    resamples = 0;
    tokens.push(token);
    logits = r.logits;
    logitsKept.push(logits);
    report(r.answer, Phase.decode, 1, r.precision, token);
    if (decoder) text += decoder.push(token);
    if (tokens.length >= o.maxTokens) {
      stoppedBy = 'max-tokens';
      break;
    }
  }
  if (decoder) text += decoder.flush();
  const decodeMs = performance.now() - start;

  // Close: the receipt must match what we sent and received; then the proof, if every C_t ≤ τ.
  if (live) {
    const l: Live = live;
    try {
      const a = await call(l.transport, { kind: 'close', sessionId: l.sessionId }, l);
      if (a.kind !== 'receipt') throw new VolunteerLost('no receipt');
      const { proof, unproven } = await proofFor(l, a.receipt, a.signature);
      segments.push(segmentOf(l, proof, unproven));
    } catch (e) {
      if (!(e instanceof VolunteerLost) && !isSplitError(e, 'RECEIPT_MISMATCH')) throw e;
      segments.push(segmentOf(l, null, e instanceof Error ? e.message : String(e)));
    }
    live = null;
  }
  o.model.destroyKvCache?.(cache);
  return { tokens, text, stoppedBy, steps, rewinds, failovers, reconnects, segments, logits: logitsKept, userCacheLength: cache.length, decodeMs };

  /** Drops the last step on both sides: here by the cache length, there by a rewind of its step. */
  async function rewindLast(step: number): Promise<void> {
    history.pop();
    cache.length -= 1;
    const l = live!;
    l.transcript.rewindLast();
    try {
      const a = await call(l.transport, { kind: 'rewind', sessionId: l.sessionId, step }, l);
      if (a.kind !== 'rewound' || a.length !== cache.length) throw new VolunteerLost(`${l.transport.label} did not rewind to ${cache.length}`);
    } catch (e) {
      if (!(e instanceof VolunteerLost)) throw e;
      // The next volunteer is rebuilt from the history, which no longer holds the step.
      abandon(e.message);
      failovers++;
    }
  }

  async function proofFor(l: Live, receiptBytes: Uint8Array, signature: Uint8Array): Promise<{ proof: ComputeProof | null; unproven?: string }> {
    // A receipt that does not decode (an older volunteer's version 1, or garbage) is one this device
    // cannot have rebuilt: no proof for this session, but the tokens it served are kept.
    let got: Receipt;
    try {
      got = decodeReceipt(receiptBytes);
    } catch (e) {
      if (!(e instanceof SplitError)) throw e;
      throw new SplitError('RECEIPT_MISMATCH', `${l.transport.label}'s receipt does not decode (${e.message})`, { cause: e });
    }
    const mine = l.transcript.receipt({
      sessionId: l.sessionId,
      modelHash: o.modelHash,
      user: o.signer.publicKey,
      volunteer: l.transport.volunteerKey,
      // The volunteer names the genesis whose ledger it publishes to (or none); signing it, the user
      // lets the session be credited in that one genesis only (docs/split-inference.md §6).
      genesis: got.genesis,
      openedAtMs: got.openedAtMs,
    });
    if (!sameBytes(mine, receiptBytes))
      throw new SplitError('RECEIPT_MISMATCH', `${l.transport.label}'s receipt differs from what this device sent and received`);
    if (o.genesis && !sameBytes(got.genesis, o.genesis)) {
      const named = sameBytes(got.genesis, NO_GENESIS) ? 'no ledger' : `genesis ${bytesToHex(got.genesis).slice(0, 16)}…`;
      const unproven = `${l.transport.label} publishes to ${named}, not this network's genesis ${bytesToHex(o.genesis).slice(0, 16)}…: no proof signed, since it would credit the session in a ledger you do not follow`;
      return { proof: null, unproven };
    }
    const steps = l.transcript.steps;
    if (steps.some((s) => s.phase === Phase.decode && !(s.cost <= o.thresholds.tau))) return { proof: null };
    if (steps.length === 0) return { proof: null };
    return { proof: await signProof(o.signer, o.networkId, receiptBytes, signature, now()) };
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
