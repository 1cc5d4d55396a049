/**
 * An in-memory network for the simulation. Gossip goes from the publisher to every online peer
 * after a per-pair latency (a full mesh: every message reaches everyone once, as gossipsub
 * achieves with duplicates suppressed); requests travel one latency each way. Every byte is
 * counted per peer, split into gossip and request/response traffic.
 */
import type { Topic, Transport } from '../interfaces.ts';
import type { EventLoop, Rng } from './loop.ts';

export interface PeerStats {
  gossipSentBytes: number;
  gossipSentMessages: number;
  gossipReceivedBytes: number;
  gossipReceivedMessages: number;
  requestBytesSent: number;
  responseBytesSent: number;
  requestsSent: number;
  requestsServed: number;
}

export const emptyStats = (): PeerStats => ({
  gossipSentBytes: 0,
  gossipSentMessages: 0,
  gossipReceivedBytes: 0,
  gossipReceivedMessages: 0,
  requestBytesSent: 0,
  responseBytesSent: 0,
  requestsSent: 0,
  requestsServed: 0,
});

export class RequestFailed extends Error {
  override readonly name = 'RequestFailed';
}

interface Peer {
  key: string;
  online: boolean;
  gossip?: (topic: Topic, bytes: Uint8Array, from?: string) => void;
  serve?: (req: Uint8Array, from: string) => Promise<Uint8Array>;
  stats: PeerStats;
}

export interface NetworkOptions {
  /** One-way latency range in ms (drawn per pair, fixed for the run). */
  latencyMs?: readonly [number, number];
}

export class SimNetwork {
  private readonly peers = new Map<string, Peer>();
  private readonly latency = new Map<string, number>();
  private readonly muted: { key: string; from: number; to: number }[] = [];

  constructor(
    private readonly loop: EventLoop,
    private readonly rng: Rng,
    private readonly options: NetworkOptions = {},
  ) {}

  join(key: string): SimTransport {
    let p = this.peers.get(key);
    if (!p) this.peers.set(key, (p = { key, online: true, stats: emptyStats() }));
    p.online = true;
    return new SimTransport(this, key);
  }

  setOnline(key: string, online: boolean): void {
    const p = this.peers.get(key);
    if (p) p.online = online;
    if (p && !online) {
      p.gossip = undefined;
      p.serve = undefined;
    }
  }

  /** Gossip `key` publishes in [from, to) reaches nobody; it still answers requests (a lossy link, not an outage). */
  muteGossip(key: string, from: number, to: number): void {
    this.muted.push({ key, from, to });
  }

  /** @internal */ isMuted(key: string, at: number): boolean {
    return this.muted.some((m) => m.key === key && at >= m.from && at < m.to);
  }

  stats(key: string): PeerStats {
    return this.peers.get(key)!.stats;
  }

  /** @internal */ peer(key: string): Peer | undefined {
    return this.peers.get(key);
  }

  /** @internal */ onlinePeers(except: string): string[] {
    return [...this.peers.values()]
      .filter((p) => p.online && p.key !== except)
      .map((p) => p.key)
      .sort();
  }

  /** @internal */ delay(a: string, b: string): number {
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    let d = this.latency.get(key);
    if (d === undefined) {
      const [lo, hi] = this.options.latencyMs ?? [10, 80];
      this.latency.set(key, (d = this.rng.int(lo, hi)));
    }
    return d;
  }

  /** @internal */ schedule(at: number, fn: () => void): void {
    this.loop.setTimer(at, fn);
  }

  get now(): number {
    return this.loop.now();
  }
}

/** `base` with its peer list or its requests replaced: a host whose peers lie, fail, refuse or are not listed yet. */
export function overrideTransport(base: Transport, o: Partial<Pick<Transport, 'peers' | 'request'>>): Transport {
  return {
    publish: (t, b) => base.publish(t, b),
    subscribe: (h) => base.subscribe(h),
    handle: (h) => base.handle(h),
    peers: o.peers ?? (() => base.peers()),
    request: o.request ?? ((peer, req, opts) => base.request(peer, req, opts)),
  };
}

export class SimTransport implements Transport {
  constructor(
    private readonly net: SimNetwork,
    readonly key: string,
  ) {}

  private get me() {
    return this.net.peer(this.key)!;
  }

  async publish(topic: Topic, bytes: Uint8Array): Promise<void> {
    const me = this.me;
    if (!me.online || this.net.isMuted(this.key, this.net.now)) return;
    const targets = this.net.onlinePeers(this.key);
    me.stats.gossipSentBytes += bytes.length;
    me.stats.gossipSentMessages++;
    for (const t of targets) {
      this.net.schedule(this.net.now + this.net.delay(this.key, t), () => {
        const p = this.net.peer(t);
        if (!p?.online || !p.gossip) return; // in flight: delivered even if the sender has left since
        p.stats.gossipReceivedBytes += bytes.length;
        p.stats.gossipReceivedMessages++;
        p.gossip(topic, bytes, this.key); // receivers never write into message bytes
      });
    }
  }

  subscribe(handler: (topic: Topic, bytes: Uint8Array, from?: string) => void): () => void {
    this.me.gossip = handler;
    return () => {
      if (this.me.gossip === handler) this.me.gossip = undefined;
    };
  }

  handle(handler: (request: Uint8Array, from: string) => Promise<Uint8Array>): void {
    this.me.serve = handler;
  }

  request(peer: string, request: Uint8Array, options: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    const me = this.me;
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise<Uint8Array>((resolve, reject) => {
      let done = false;
      const finish = (f: () => void) => {
        if (!done) {
          done = true;
          f();
        }
      };
      this.net.schedule(this.net.now + timeoutMs, () => finish(() => reject(new RequestFailed(`request to ${peer.slice(0, 8)} timed out`))));
      if (!me.online) return;
      me.stats.requestsSent++;
      me.stats.requestBytesSent += request.length;
      const d = this.net.delay(this.key, peer);
      this.net.schedule(this.net.now + d, () => {
        const p = this.net.peer(peer);
        if (!p?.online || !p.serve) return; // silence: the caller times out
        p.stats.requestsServed++;
        p.serve(request.slice(), this.key).then(
          (response) => {
            p.stats.responseBytesSent += response.length;
            this.net.schedule(this.net.now + d, () => finish(() => (this.me.online ? resolve(response) : reject(new RequestFailed('offline')))));
          },
          (err: unknown) => this.net.schedule(this.net.now + d, () => finish(() => reject(new RequestFailed(`remote error: ${(err as Error).message}`)))),
        );
      });
    });
  }

  peers(): string[] {
    return this.net.onlinePeers(this.key);
  }
}
