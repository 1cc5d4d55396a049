/**
 * Failover in the browser (docs/split-inference.md §8, §13): the ranked volunteers become the
 * ordered transport list `splitGenerate` fails over along. A volunteer is reached only when its turn
 * comes, and a volunteer that cannot be reached counts as a dead link (PeerGoneError), so the user
 * moves on to the next one instead of stopping; the next one rebuilds from the h_k history.
 */
import { PeerGoneError } from '../node/errors.ts';
import type { SplitGenerateResult } from '../split/user.ts';
import type { SplitTransport } from '../split/transport.ts';

/** A transport that first makes sure its volunteer is reachable (dialled through a relay). */
export class ReachingTransport implements SplitTransport {
  private reached: Promise<void> | null = null;
  /** Why the last call failed or was refused (for the message when every volunteer failed). */
  lastProblem: string | null = null;

  constructor(
    private readonly inner: SplitTransport,
    private readonly reach: () => Promise<void>,
  ) {}

  get volunteerKey(): Uint8Array {
    return this.inner.volunteerKey;
  }
  get label(): string {
    return this.inner.label;
  }

  async call(request: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
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
      return await this.inner.call(request, signal);
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
