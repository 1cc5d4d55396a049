/**
 * The volunteer's side of a split session: layers [k, L) with one KV cache per session, C_t and
 * H_t per step, one-step rewinds, and a signed receipt at close. `handle` takes a request's
 * plaintext (the transport has already opened the sealed box and authenticated the user's key) and
 * always answers: a refused or failed request becomes an in-band error answer with a SplitError code.
 * Requests are served one at a time (the engine has one queue anyway), so a session's state never
 * sees two steps at once.
 */
import type { KvCache } from '../llm/model-types.ts';
import {
  decodeFloats,
  decodeRequest,
  encodeAnswer,
  encodeFloats,
  EvidencePart,
  fitsF16,
  Phase,
  Precision,
  type CloseRequest,
  type EvidenceRequest,
  type OpenRequest,
  type RewindRequest,
  type SplitAnswer,
  type StepRequest,
} from './codec.ts';
import {
  EVIDENCE_BYTES_PER_PEER,
  EVIDENCE_WINDOW_MS,
  HASH_BYTES,
  MAX_EVIDENCE_BYTES,
  MAX_SESSIONS,
  MAX_SESSIONS_PER_PEER,
  SESSION_IDLE_MS,
} from './constants.ts';
import type { SplitModel } from './engines.ts';
import { SplitError } from './errors.ts';
import { SessionTranscript } from './transcript.ts';
import { entropy, finalNormed, structuralCost } from './metrics.ts';
import { deriveSessionKeys, frameHead, sessionEphemeral, VolunteerChannel } from './session-key.ts';
import { decodeProof, receiptDomain, signatureProblem, type ProofSigner } from './proof.ts';
import { verifyTyped } from '../wallet/signing.ts';

export interface VolunteerOptions<K extends KvCache> {
  /** Holds layers [lowestK, L) at least (a whole model works too). */
  readonly model: SplitModel<K>;
  /** The smallest split layer this volunteer serves (its model starts there). */
  readonly lowestK: number;
  readonly modelHash: Uint8Array;
  /** model.norm.weight (engines.ts loadFinalNorm). */
  readonly normWeight: ArrayLike<number>;
  /** Signs receipts: the volunteer's wallet. */
  readonly signer: ProofSigner;
  readonly networkId: string;
  /**
   * The genesis hash (32 bytes) of the ledger this volunteer publishes proofs to: every receipt
   * names it, so the session can be credited in that genesis only (proof.ts). Absent: the receipts
   * name none (NO_GENESIS) and no ledger credits them.
   */
  readonly genesis?: Uint8Array;
  readonly now?: () => number;
  readonly maxSessions?: number;
  readonly maxSessionsPerPeer?: number;
  readonly idleMs?: number;
  /**
   * Validators: may this peer (its Ed25519 key) fetch a closed session's evidence? The evidence is
   * h_k, from which the prompt can be recovered (privacy.ts), so the default is nobody; a host
   * that runs the ledger lets in the keys with weight in the current epoch.
   */
  readonly mayFetchEvidence?: (peer: Uint8Array) => boolean;
  /** Bytes of closed sessions' evidence kept (default MAX_EVIDENCE_BYTES when mayFetchEvidence is set, else 0). */
  readonly evidenceBytes?: number;
  /** Evidence bytes one peer may fetch per window (default EVIDENCE_BYTES_PER_PEER per EVIDENCE_WINDOW_MS). */
  readonly evidenceBytesPerPeer?: number;
  readonly evidenceWindowMs?: number;
  /** A user submitted its signed proof of one of our sessions (checked): publish it; the answer is a note for the user. */
  readonly onProof?: (proof: Uint8Array) => Promise<string>;
}

/** What a closed session leaves for validators: the parts of §7a, served in chunks. */
interface Closed {
  readonly receipt: Uint8Array;
  /** h_k of every step as sent, and where each starts in their concatenation (n + 1 offsets). */
  readonly hk: Uint8Array[];
  readonly hkStarts: number[];
  readonly logits: Uint8Array[];
  /** The output leaves, concatenated. */
  readonly leaves: Uint8Array;
  readonly bytes: number;
}

interface Undo {
  readonly length: number;
  readonly final: Float64Array | null;
}

interface Session<K extends KvCache> {
  readonly id: Uint8Array;
  readonly peer: Uint8Array;
  readonly k: number;
  readonly cache: K;
  readonly openedAtMs: number;
  lastUsed: number;
  readonly transcript: SessionTranscript;
  /** ĥ of the last position in the cache (C_t's "previous"). */
  final: Float64Array | null;
  undo: Undo | null;
  /** The session key's channel, when the open carried the user's ephemeral key; it dies with the session. */
  readonly channel: VolunteerChannel | null;
}

function errorAnswer(e: unknown): SplitAnswer {
  const err =
    e instanceof SplitError ? e : new SplitError('VOLUNTEER_FAILED', `the engine failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  return { kind: 'error', code: err.code, message: err.message };
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

export class SplitVolunteer<K extends KvCache = KvCache> {
  private readonly sessions = new Map<string, Session<K>>();
  /** By user key ‖ session id (hex), oldest first. */
  private readonly closed = new Map<string, Closed>();
  private closedBytes = 0;
  /** Evidence bytes served per peer (hex) in the window that began at evidenceWindowStart. */
  private readonly evidenceServed = new Map<string, number>();
  private evidenceWindowStart = -Infinity;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;
  /** What every receipt names as its genesis. */
  private readonly genesis: Uint8Array;
  /** Steps computed (accepted or later rewound), for the volunteer's own display. */
  stepsServed = 0;

  constructor(private readonly o: VolunteerOptions<K>) {
    const L = o.model.config.numLayers;
    if (!Number.isInteger(o.lowestK) || o.lowestK < 1 || o.lowestK >= L) throw new SplitError('BAD_ARGUMENT', `lowestK ${o.lowestK} is not in [1, ${L})`);
    if (o.normWeight.length !== o.model.config.hiddenSize) throw new SplitError('BAD_ARGUMENT', 'the final norm weight does not match hidden_size');
    if (o.genesis !== undefined && o.genesis.length !== HASH_BYTES) throw new SplitError('BAD_ARGUMENT', `a genesis hash is ${HASH_BYTES} bytes`);
    this.genesis = o.genesis?.slice() ?? new Uint8Array(HASH_BYTES);
    this.now = o.now ?? Date.now;
  }

  get publicKey(): Uint8Array {
    return this.o.signer.publicKey;
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  /** KV-cache length of each open session (tests check both sides agree after a rewind). */
  cacheLengths(): number[] {
    return [...this.sessions.values()].map((s) => s.cache.length);
  }

  /**
   * One request from `peer` (the user's Ed25519 key, authenticated by the transport) → one answer.
   * `sessionKeys`: the transport delivers session frames too (handleSession), so an open that asks
   * for a session key gets one; otherwise the session is sealed per call.
   */
  handle(request: Uint8Array, peer: Uint8Array, context: { readonly sessionKeys?: boolean } = {}): Promise<Uint8Array> {
    const run = this.queue.then(() => this.serve(request, peer, context.sessionKeys === true));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * One frame of a keyed session (session-key.ts) from `peer`. The answer is sealed under the
   * session's key, errors of the request included; a frame that cannot be opened (no such session
   * for this peer, a replayed or reordered counter, another key) is answered by a refusal in the
   * clear, which carries nothing but its code and reason.
   */
  handleSession(frame: Uint8Array, peer: Uint8Array): Promise<Uint8Array> {
    const run = this.queue.then(() => this.serveFrame(frame, peer));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async serveFrame(frame: Uint8Array, peer: Uint8Array): Promise<Uint8Array> {
    let opened: { s: Session<K>; channel: VolunteerChannel; counter: number; plaintext: Uint8Array };
    try {
      this.expire();
      const s = this.session(frameHead(frame).sessionId, peer);
      if (!s.channel) throw new SplitError('BAD_SESSION', 'this session was opened without a session key');
      opened = { s, channel: s.channel, ...s.channel.open(frame) };
    } catch (e) {
      return encodeAnswer(errorAnswer(e));
    }
    const { s, channel, counter, plaintext } = opened;
    let answer: SplitAnswer;
    try {
      const m = decodeRequest(plaintext);
      if ((m.kind !== 'step' && m.kind !== 'rewind' && m.kind !== 'close') || !same(m.sessionId, s.id))
        throw new SplitError('BAD_SESSION', 'a session frame carries a step, rewind or close of its own session');
      answer = await this.inSession(s, m);
    } catch (e) {
      answer = errorAnswer(e);
    }
    return channel.seal(encodeAnswer(answer), counter);
  }

  private async serve(request: Uint8Array, peer: Uint8Array, sessionKeys: boolean): Promise<Uint8Array> {
    let answer: SplitAnswer;
    try {
      this.expire();
      const m = decodeRequest(request);
      if (m.kind === 'open') answer = this.open(m, peer, sessionKeys);
      else if (m.kind === 'submit') answer = await this.submit(m.proof, peer);
      else if (m.kind === 'evidence') answer = this.evidence(m, peer);
      else {
        const s = this.session(m.sessionId, peer);
        // A keyed session takes its steps only under its key: no downgrade to per-call sealing mid-session.
        if (s.channel) throw new SplitError('BAD_SESSION', 'this session’s messages go under its session key');
        answer = await this.inSession(s, m);
      }
    } catch (e) {
      answer = errorAnswer(e);
    }
    return encodeAnswer(answer);
  }

  private async inSession(s: Session<K>, m: StepRequest | RewindRequest | CloseRequest): Promise<SplitAnswer> {
    s.lastUsed = this.now();
    if (m.kind === 'step') return this.step(s, m);
    if (m.kind === 'rewind') return this.rewind(s, m.step);
    return this.close(s);
  }

  private expire(): void {
    const t = this.now();
    for (const [key, s] of this.sessions) {
      if (t - s.lastUsed > (this.o.idleMs ?? SESSION_IDLE_MS)) this.drop(key, s);
    }
  }

  private drop(key: string, s: Session<K>): void {
    this.sessions.delete(key);
    this.o.model.destroyKvCache?.(s.cache);
  }

  private session(id: Uint8Array, peer: Uint8Array): Session<K> {
    const s = this.sessions.get(hex(id));
    if (!s) throw new SplitError('UNKNOWN_SESSION', 'no such session (closed, expired, or never opened here)');
    // A session id is bound to the key that opened it: nobody else can step, rewind or close it.
    if (!same(s.peer, peer)) throw new SplitError('UNKNOWN_SESSION', 'no such session for this peer');
    return s;
  }

  private open(m: OpenRequest, peer: Uint8Array, sessionKeys: boolean): SplitAnswer {
    const c = this.o.model.config;
    if (!same(m.modelHash, this.o.modelHash)) throw new SplitError('WRONG_MODEL', 'this volunteer serves another model');
    if (m.k < this.o.lowestK || m.k >= c.numLayers) throw new SplitError('WRONG_MODEL', `split layer ${m.k} is outside [${this.o.lowestK}, ${c.numLayers})`);
    if (m.maxContext > c.maxPositions) throw new SplitError('LIMIT', `maxContext ${m.maxContext} exceeds the model's ${c.maxPositions}`);
    const key = hex(m.sessionId);
    if (this.sessions.has(key)) throw new SplitError('BAD_SESSION', 'this session id is in use');
    if (this.sessions.size >= (this.o.maxSessions ?? MAX_SESSIONS)) throw new SplitError('LIMIT', 'this volunteer is full');
    const mine = [...this.sessions.values()].filter((s) => same(s.peer, peer)).length;
    if (mine >= (this.o.maxSessionsPerPeer ?? MAX_SESSIONS_PER_PEER))
      throw new SplitError('LIMIT', `at most ${this.o.maxSessionsPerPeer ?? MAX_SESSIONS_PER_PEER} sessions per user`);
    let channel: VolunteerChannel | null = null;
    let sessionKey: Uint8Array | undefined;
    if (m.sessionKey && sessionKeys) {
      const mine = sessionEphemeral();
      sessionKey = mine.publicKey;
      const keys = deriveSessionKeys(mine.secret, m.sessionKey, {
        sessionId: m.sessionId,
        user: peer,
        volunteer: this.o.signer.publicKey,
        userEphemeral: m.sessionKey,
        volunteerEphemeral: mine.publicKey,
      });
      channel = new VolunteerChannel(m.sessionId.slice(), keys);
    }
    const openedAtMs = this.now();
    this.sessions.set(key, {
      channel,
      id: m.sessionId.slice(),
      peer: peer.slice(),
      k: m.k,
      cache: this.o.model.createKvCache({ fromLayer: m.k, maxContext: m.maxContext }),
      openedAtMs,
      lastUsed: openedAtMs,
      transcript: new SessionTranscript(c, m.k),
      final: null,
      undo: null,
    });
    return { kind: 'opened', sessionId: m.sessionId, numLayers: c.numLayers, hiddenSize: c.hiddenSize, vocab: c.vocabSize, openedAtMs, sessionKey };
  }

  private async step(s: Session<K>, m: StepRequest): Promise<SplitAnswer> {
    const c = this.o.model.config;
    const D = c.hiddenSize;
    if (!same(m.modelHash, this.o.modelHash) || m.k !== s.k)
      throw new SplitError('WRONG_MODEL', 'the step names another model or split layer than its session');
    if (m.step !== s.transcript.steps.length) throw new SplitError('OUT_OF_ORDER', `step ${m.step}, expected ${s.transcript.steps.length}`);
    if (m.position !== s.cache.length) throw new SplitError('OUT_OF_ORDER', `position ${m.position}, the cache holds ${s.cache.length}`);
    const decoding = s.transcript.steps.some((x) => x.phase === Phase.decode);
    if (m.phase === Phase.prefill && decoding) throw new SplitError('OUT_OF_ORDER', 'prefill after decoding began');
    if (m.phase === Phase.decode && s.final === null) throw new SplitError('OUT_OF_ORDER', 'a decode step needs a prefill first');
    if (m.position + m.count > s.cache.maxContext) throw new SplitError('LIMIT', `the session holds ${s.cache.maxContext} positions`);
    const hidden = decodeFloats(m.hidden, m.precision, 'h_k');
    if (hidden.length !== m.count * D) throw new SplitError('MALFORMED', `h_k has ${hidden.length} values, expected ${m.count} × ${D}`);

    const undo: Undo = { length: s.cache.length, final: s.final };
    const out = await this.o.model.forward({ hidden, fromLayer: s.k, kvCache: s.cache, logits: 'last', returnHidden: true });
    this.stepsServed++;
    if (!out.logits || !out.hidden) throw new SplitError('VOLUNTEER_FAILED', 'the engine returned no logits or hidden state');
    const eps = c.rmsNormEps;
    const last = finalNormed(out.hidden, (m.count - 1) * D, this.o.normWeight, eps);
    const prev = m.count >= 2 ? finalNormed(out.hidden, (m.count - 2) * D, this.o.normWeight, eps) : s.final;
    const cost = m.phase === Phase.prefill || prev === null ? 0 : Math.min(2, Math.max(0, structuralCost(prev, last)));
    const precision = m.precision === Precision.f16 && fitsF16(out.logits) ? Precision.f16 : Precision.f32;
    const logits = encodeFloats(out.logits, precision);
    // H from the values as sent, so the user recomputes it bit for bit.
    const h = entropy(decodeFloats(logits, precision, 'logits'));

    s.undo = undo;
    s.final = last;
    s.transcript.accept({ ...m, hkWire: m.hidden.slice(), logitsWire: logits, cost, entropy: h });
    return { kind: 'stepped', sessionId: s.id, step: m.step, position: m.position, precision, logits, cost, entropy: h };
  }

  private rewind(s: Session<K>, step: number): SplitAnswer {
    if (s.undo === null || step !== s.transcript.steps.length - 1)
      throw new SplitError('BAD_SESSION', `step ${step} cannot be rewound: only the last step computed, once`);
    s.transcript.rewindLast();
    // The entries past `length` are dead: the next step overwrites them.
    s.cache.length = s.undo.length;
    s.final = s.undo.final;
    s.undo = null;
    return { kind: 'rewound', sessionId: s.id, step, length: s.cache.length };
  }

  private async close(s: Session<K>): Promise<SplitAnswer> {
    this.drop(hex(s.id), s);
    const t = s.transcript;
    const receipt = t.receipt({
      sessionId: s.id,
      modelHash: this.o.modelHash,
      user: s.peer,
      volunteer: this.o.signer.publicKey,
      genesis: this.genesis,
      openedAtMs: s.openedAtMs,
    });
    const signature = await this.o.signer.sign(receiptDomain(this.o.networkId), receipt);
    const hkStarts = [0];
    for (const b of t.hkWire) hkStarts.push(hkStarts.at(-1)! + b.length);
    const leaves = new Uint8Array(t.outLeaves.length * 32);
    t.outLeaves.forEach((l, i) => leaves.set(l, i * 32));
    this.keep(hex(s.peer) + hex(s.id), {
      receipt,
      hk: t.hkWire,
      hkStarts,
      logits: t.logitsWire,
      leaves,
      bytes: hkStarts.at(-1)! + leaves.length + t.logitsWire.reduce((n, b) => n + b.length, 0),
    });
    return { kind: 'receipt', sessionId: s.id, receipt, signature };
  }

  private keep(key: string, c: Closed): void {
    const budget = this.o.evidenceBytes ?? (this.o.mayFetchEvidence || this.o.onProof ? MAX_EVIDENCE_BYTES : 0);
    if (c.bytes > budget) return;
    this.closed.set(key, c);
    this.closedBytes += c.bytes;
    for (const [k, old] of this.closed) {
      if (this.closedBytes <= budget) break;
      this.closed.delete(k);
      this.closedBytes -= old.bytes;
    }
  }

  /** The user's proof of a session we closed: it must carry our receipt, byte for byte, and the user's valid signature. */
  private async submit(bytes: Uint8Array, peer: Uint8Array): Promise<SplitAnswer> {
    if (!this.o.onProof) throw new SplitError('FORBIDDEN', 'this volunteer does not publish proofs (it runs no ledger)');
    const p = decodeProof(bytes);
    const kept = this.closed.get(hex(p.receipt.user) + hex(p.receipt.sessionId));
    if (!same(p.receipt.user, peer) || !kept || !same(kept.receipt, p.receiptBytes))
      throw new SplitError('UNKNOWN_SESSION', 'no closed session of yours with this receipt');
    const problem = signatureProblem(p, this.o.networkId, { verify: verifyTyped });
    if (problem) throw new SplitError('BAD_PROOF', `${problem.reason}: ${problem.detail}`);
    return { kind: 'submitted', note: await this.o.onProof(bytes) };
  }

  /** One chunk of a kept session's evidence (§7a), charged to the peer's window budget. */
  private evidence(m: EvidenceRequest, peer: Uint8Array): SplitAnswer {
    if (!this.o.mayFetchEvidence?.(peer)) throw new SplitError('FORBIDDEN', 'evidence goes to validators only');
    const c = this.closed.get(hex(m.user) + hex(m.sessionId));
    if (!c) throw new SplitError('UNKNOWN_SESSION', 'no evidence kept for this session');
    if (m.part === EvidencePart.logits && m.step >= c.logits.length) throw new SplitError('LIMIT', `the session has ${c.logits.length} steps`);
    const total = m.part === EvidencePart.leaves ? c.leaves.length : m.part === EvidencePart.hk ? c.hkStarts.at(-1)! : c.logits[m.step]!.length;
    if (m.offset >= total) throw new SplitError('LIMIT', `offset ${m.offset} is past the part's ${total} bytes`);
    const length = Math.min(m.length, total - m.offset);
    this.chargeEvidence(peer, length);
    const bytes =
      m.part === EvidencePart.leaves
        ? c.leaves.subarray(m.offset, m.offset + length)
        : m.part === EvidencePart.logits
          ? c.logits[m.step]!.subarray(m.offset, m.offset + length)
          : concatRange(c.hk, c.hkStarts, m.offset, length);
    return { kind: 'evidence', part: m.part, step: m.step, offset: m.offset, total, bytes };
  }

  /** A fixed window per peer: a validator re-fetching (or a weighted key scraping) is bounded in bytes per window. */
  private chargeEvidence(peer: Uint8Array, bytes: number): void {
    const t = this.now();
    const windowMs = this.o.evidenceWindowMs ?? EVIDENCE_WINDOW_MS;
    if (t - this.evidenceWindowStart >= windowMs) {
      this.evidenceWindowStart = t;
      this.evidenceServed.clear();
    }
    const key = hex(peer);
    const served = this.evidenceServed.get(key) ?? 0;
    const budget = this.o.evidenceBytesPerPeer ?? EVIDENCE_BYTES_PER_PEER;
    if (served + bytes > budget) throw new SplitError('LIMIT', `at most ${budget} evidence bytes per peer per ${windowMs} ms: try again later`);
    this.evidenceServed.set(key, served + bytes);
  }
}

/** Bytes [offset, offset + length) of the concatenation of `parts`, whose starts are `starts`. */
function concatRange(parts: readonly Uint8Array[], starts: readonly number[], offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  // The last part starting at or before offset (binary search: sessions have up to 8 192 steps).
  let lo = 0;
  let hi = parts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  let written = 0;
  for (let i = lo; written < length; i++) {
    const part = parts[i]!;
    const from = offset + written - starts[i]!;
    const take = Math.min(part.length - from, length - written);
    out.set(part.subarray(from, from + take), written);
    written += take;
  }
  return out;
}
