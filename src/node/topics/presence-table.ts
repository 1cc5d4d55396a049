/**
 * What a node keeps from presence gossip, and how much it lets presence make it dial.
 *
 * - `PresenceTable`: at most `maxPeers` entries; an entry not refreshed within `ttlMs` is dropped.
 *   When full, a new peer is refused while the peers already listed keep refreshing theirs, so a
 *   burst of Sybil presences cannot push out peers we already know.
 * - `webrtcDialAddr`: the only address discovery dials is built from our own configured relay
 *   address and the sender's peer id: `<our relay addr>/p2p-circuit/webrtc/p2p/<sender>`, and only
 *   when the sender announced a reservation on that relay. Hosts, ports and peer ids chosen by the
 *   sender are never dialled.
 * - `TokenBucket`: discovery dials per minute, with a burst.
 */
import { multiaddr } from '@multiformats/multiaddr';
import type { Presence } from './presence.ts';

export interface PeerPresence extends Presence {
  peerId: string;
  lastSeenMs: number;
}

export class PresenceTable {
  private readonly entries = new Map<string, PeerPresence>();

  constructor(
    private readonly maxPeers: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(maxPeers >= 1) || !(ttlMs > 0)) throw new RangeError('presence table limits must be positive');
  }

  /** Adds or refreshes `peerId`'s entry; undefined when the table is full and the peer is new. */
  upsert(peerId: string, presence: Presence): PeerPresence | undefined {
    const now = this.now();
    if (!this.entries.has(peerId)) {
      this.expire();
      if (this.entries.size >= this.maxPeers) return undefined;
    }
    const entry: PeerPresence = { role: presence.role, label: presence.label, multiaddrs: [...presence.multiaddrs], peerId, lastSeenMs: now };
    // Re-insert so the Map stays in last-seen order, which `expire` relies on.
    this.entries.delete(peerId);
    this.entries.set(peerId, entry);
    return entry;
  }

  /** Drops entries not refreshed within the TTL; returns their peer ids. */
  expire(): string[] {
    const cutoff = this.now() - this.ttlMs;
    const gone: string[] = [];
    for (const [peerId, entry] of this.entries) {
      if (entry.lastSeenMs > cutoff) break;
      this.entries.delete(peerId);
      gone.push(peerId);
    }
    return gone;
  }

  get(peerId: string): PeerPresence | undefined {
    return this.entries.get(peerId);
  }

  has(peerId: string): boolean {
    return this.entries.has(peerId);
  }

  get size(): number {
    return this.entries.size;
  }

  values(): PeerPresence[] {
    return [...this.entries.values()];
  }
}

/**
 * The relayed WebRTC address to dial for `senderPeerId`, or undefined. `relays` maps each configured
 * relay's peer id to our own multiaddr for it (ending in `/p2p/<relay id>`).
 */
export function webrtcDialAddr(presence: Presence, senderPeerId: string, relays: ReadonlyMap<string, string>): string | undefined {
  for (const text of presence.multiaddrs) {
    let parts: Array<{ name: string; value?: string }>;
    try {
      parts = multiaddr(text).getComponents();
    } catch {
      continue;
    }
    const [relay, circuit, webrtc, target] = parts.slice(-4);
    if (!relay || !circuit || !webrtc || !target || relay.name !== 'p2p' || circuit.name !== 'p2p-circuit' || webrtc.name !== 'webrtc') continue;
    if (target.name !== 'p2p' || target.value !== senderPeerId) continue;
    const ours = relay.value === undefined ? undefined : relays.get(relay.value);
    if (ours) return `${ours}/p2p-circuit/webrtc/p2p/${senderPeerId}`;
  }
  return undefined;
}

/** `capacity` tokens, refilled continuously at `perMinute`; `take` spends one if there is one. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly capacity: number,
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(capacity >= 1) || !(perMinute > 0)) throw new RangeError('token bucket limits must be positive');
    this.tokens = capacity;
    this.at = now();
  }

  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 60_000) * this.perMinute);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
