/**
 * Failover in the browser (docs/split-inference.md §8, §13): the ranked volunteers become the
 * ordered transport list `splitGenerate` fails over along. A volunteer is reached only when its turn
 * comes, and a volunteer that cannot be reached counts as a dead link (PeerGoneError), so the user
 * moves on to the next one instead of stopping; the next one rebuilds from the h_k history. A call
 * that failed before the volunteer answered makes it reach again, so splitGenerate's one retry of a
 * failed connect (`CONNECT_RETRIES`) takes a fresh path.
 * Both wrappers pass a volunteer's session frames through (per-session key, docs/split-inference.md
 * §2a) when the network transport offers them.
 */
import { PeerGoneError, RequestError } from '../node/errors.ts';
import type { SplitGenerateResult } from '../split/user.ts';
import type { SplitTransport } from '../split/transport.ts';
import { decodeAnswer, type SplitAnswer } from '../split/codec.ts';

/**
 * A transport that first makes sure its volunteer is reachable (dialled through a relay). It offers
 * session frames (`callSession`) exactly when the transport it wraps does, so a keyed session
 * (docs/split-inference.md §2a) is set up with volunteers that take frames and per-call sealing stays
 * the fallback.
 */
export class ReachingTransport implements SplitTransport {
  private reached: Promise<void> | null = null;
  /** Why the last call failed or was refused (for the message when every volunteer failed). */
  lastProblem: string | null = null;
  readonly callSession?: (frame: Uint8Array, signal?: AbortSignal) => Promise<Uint8Array>;

  constructor(
    private readonly inner: SplitTransport,
    private readonly reach: () => Promise<void>,
  ) {
    const session = inner.callSession?.bind(inner);
    if (session) this.callSession = (frame, signal) => this.whenReached(() => session(frame, signal));
  }

  get volunteerKey(): Uint8Array {
    return this.inner.volunteerKey;
  }
  get label(): string {
    return this.inner.label;
  }

  call(request: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    return this.whenReached(() => this.inner.call(request, signal));
  }

  observe(plaintext: Uint8Array): void {
    this.inner.observe?.(plaintext);
  }

  private async whenReached(send: () => Promise<Uint8Array>): Promise<Uint8Array> {
    if (!this.reached) {
      this.reached = this.reach();
      // A failed dial is tried again on the next call, not remembered for good.
      this.reached.catch(() => (this.reached = null));
    }
    try {
      await this.reached;
    } catch (e) {
      this.lastProblem = `unreachable: ${(e as Error).message}`;
      throw new PeerGoneError(`${this.label} is unreachable: ${(e as Error).message}`);
    }
    try {
      return await send();
    } catch (e) {
      this.lastProblem = (e as Error).message;
      // The path failed under the call (e.g. a dying WebRTC connection): splitGenerate's retry reaches again, through the relay.
      if (e instanceof PeerGoneError || (e instanceof Error && e.constructor === RequestError)) this.reached = null;
      throw e;
    }
  }
}

const safeDecode = (bytes: Uint8Array): SplitAnswer | null => {
  try {
    return decodeAnswer(bytes);
  } catch {
    return null;
  }
};

/**
 * Shows every request's plaintext to `seen` before it is sealed: a per-call request as it goes to
 * the node (which seals it), a keyed session's step, rewind or close when the user hands it over
 * for sealing (`observe`), so nothing leaves unseen whichever sealing a volunteer agreed to. The
 * sealed frames themselves are not shown: they are ciphertext of what was seen.
 */
export class ObservedTransport implements SplitTransport {
  /** Why the last call failed or was refused, for the message when splitGenerate gives up on the volunteer. */
  lastProblem: string | null = null;
  readonly callSession?: (frame: Uint8Array, signal?: AbortSignal) => Promise<Uint8Array>;

  constructor(
    private readonly inner: SplitTransport,
    private readonly seen: (plaintext: Uint8Array) => void,
  ) {
    const session = inner.callSession?.bind(inner);
    if (session) this.callSession = (frame, signal) => this.noting(() => session(frame, signal));
  }
  get volunteerKey(): Uint8Array {
    return this.inner.volunteerKey;
  }
  get label(): string {
    return this.inner.label;
  }
  call(request: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    // Seen before the reach and the sealing: a test checks every request that could leave.
    this.seen(request.slice());
    return this.noting(() => this.inner.call(request, signal));
  }
  observe(plaintext: Uint8Array): void {
    this.seen(plaintext.slice());
    this.inner.observe?.(plaintext);
  }
  private async noting(send: () => Promise<Uint8Array>): Promise<Uint8Array> {
    try {
      const answer = await send();
      // A sealed answer frame does not decode; a refusal in the clear (or a per-call answer) does.
      const a = safeDecode(answer);
      if (a?.kind === 'error') this.lastProblem = `${a.code}: ${a.message}`;
      return answer;
    } catch (e) {
      this.lastProblem = (e as Error).message;
      throw e;
    }
  }
}

export interface FailoverSummary {
  /** Times generation moved to the next volunteer after the live one failed. */
  readonly switches: number;
  /** The volunteers that served a segment, in order (a failed one included). */
  readonly served: string[];
  /** The volunteer of the last segment: the one whose receipt the proof covers. */
  readonly finalVolunteer: string | null;
}

export function failoverSummary(r: Pick<SplitGenerateResult, 'failovers' | 'segments'>): FailoverSummary {
  return {
    switches: r.failovers,
    served: r.segments.map((s) => s.volunteer),
    finalVolunteer: r.segments[r.segments.length - 1]?.volunteer ?? null,
  };
}

/** The transport that holds the last segment, to submit its proof to. */
export function transportOfLastSegment<T extends SplitTransport>(r: Pick<SplitGenerateResult, 'segments'>, transports: readonly T[]): T | undefined {
  const last = r.segments[r.segments.length - 1];
  if (!last) return undefined;
  return transports.find((t) => t.volunteerKey.length === last.volunteerKey.length && t.volunteerKey.every((b, i) => b === last.volunteerKey[i]));
}
