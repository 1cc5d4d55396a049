/**
 * Finding volunteers (docs/split-inference.md §13): a volunteer announces on the `split-volunteer`
 * topic which model hash it serves and which split layers k it accepts (the codec and its limits are
 * in src/node/topics/split-volunteer.ts, checked by every node before it forwards); a user keeps the
 * announcements it hears in a `VolunteerDirectory` and lists those for its model hash and k.
 *
 * The directory is bounded like the presence table: at most `maxEntries` volunteers, a full table
 * refuses newcomers while the listed ones keep refreshing, and an entry not refreshed within
 * `ttlMs` is dropped. An announcement is a claim, not a credential: the user's probe (router.ts
 * probeVolunteer) and the session itself check that the volunteer really serves the model.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { GossipMessage } from '../node/node.ts';
import { NO_ANNOUNCED_GENESIS, SPLIT_VOLUNTEER_TOPIC, announcementProblem, type VolunteerAnnouncement } from '../node/topics/split-volunteer.ts';
import { SplitError } from './errors.ts';

export { NO_ANNOUNCED_GENESIS, SPLIT_VOLUNTEER_TOPIC, type VolunteerAnnouncement };

export interface ListedVolunteer {
  readonly peerId: string;
  readonly announcement: VolunteerAnnouncement;
  readonly lastSeenMs: number;
}

export class VolunteerDirectory {
  private readonly entries = new Map<string, ListedVolunteer>();

  constructor(private readonly o: { readonly maxEntries?: number; readonly ttlMs?: number; readonly now?: () => number } = {}) {
    if (!((o.maxEntries ?? 1) >= 1) || !((o.ttlMs ?? 1) > 0)) throw new SplitError('BAD_ARGUMENT', 'directory limits must be positive');
  }

  private get now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** Records `peerId`'s announcement; false when it is invalid or the table is full and the peer new. */
  receive(peerId: string, a: VolunteerAnnouncement): boolean {
    if (announcementProblem(a)) return false;
    this.expire();
    if (!this.entries.has(peerId) && this.entries.size >= (this.o.maxEntries ?? 256)) return false;
    this.entries.delete(peerId);
    this.entries.set(peerId, { peerId, announcement: a, lastSeenMs: this.now });
    return true;
  }

  private expire(): void {
    const cutoff = this.now - (this.o.ttlMs ?? 30_000);
    for (const [peerId, e] of this.entries) if (e.lastSeenMs <= cutoff) this.entries.delete(peerId);
  }

  /** Volunteers that announced this model hash and accept split layer k, oldest announcement first. */
  forModel(modelHash: Uint8Array, k: number): ListedVolunteer[] {
    if (modelHash.length !== 32) throw new SplitError('BAD_ARGUMENT', `a model hash has 32 bytes, got ${modelHash.length}`);
    if (!Number.isInteger(k) || k < 1) throw new SplitError('BAD_ARGUMENT', `split layer ${k} is not a positive integer`);
    this.expire();
    const hex = bytesToHex(modelHash);
    return [...this.entries.values()].filter(
      (e) => bytesToHex(e.announcement.modelHash) === hex && k >= e.announcement.lowestK && k <= e.announcement.highestK,
    );
  }

  get size(): number {
    this.expire();
    return this.entries.size;
  }
}

/** The part of SprintnetNode the directory and the announcer use (tests pass a fake). */
export interface AnnouncementBus {
  readonly peerId: string;
  onGossip<T>(name: string, listener: (message: GossipMessage<T>) => void): () => void;
  publish<T>(name: string, value: T): Promise<void>;
}

/** Feeds every accepted announcement but our own into `directory`; returns the unsubscribe. */
export function listenForVolunteers(bus: AnnouncementBus, directory: VolunteerDirectory): () => void {
  return bus.onGossip<VolunteerAnnouncement>(SPLIT_VOLUNTEER_TOPIC, (m) => {
    if (m.from !== bus.peerId) directory.receive(m.from, m.value);
  });
}

/** Announces now and every `intervalMs` until stopped; a publish with no peers yet is retried on the next tick. */
export function announceVolunteer(bus: AnnouncementBus, a: VolunteerAnnouncement, intervalMs = 5_000): { stop(): void } {
  const problem = announcementProblem(a);
  if (problem) throw new SplitError('BAD_ARGUMENT', `cannot announce: ${problem}`);
  if (!(intervalMs >= 100)) throw new SplitError('BAD_ARGUMENT', `announcement interval ${intervalMs} ms is below 100 ms`);
  const send = () => void bus.publish(SPLIT_VOLUNTEER_TOPIC, a).catch(() => undefined);
  send();
  const timer = setInterval(send, intervalMs);
  return { stop: () => clearInterval(timer) };
}
