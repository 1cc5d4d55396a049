/**
 * Keeps us connected to the configured relays: dial at start, and when a relay connection drops,
 * re-dial with exponential backoff (capped). Direct WebRTC connections do not depend on it.
 */
import type { Libp2p } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';

export type RelayState = 'idle' | 'connecting' | 'connected' | 'waiting';

export class RelayKeeper {
  private readonly addrs: Multiaddr[];
  private readonly relayIds: Set<string>;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private delay: number;
  private stopped = true;
  private _state: RelayState = 'idle';

  constructor(
    private readonly libp2p: Libp2p,
    relays: string[],
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly onState: (state: RelayState) => void,
  ) {
    this.addrs = relays.map((r) => multiaddr(r));
    this.relayIds = new Set(this.addrs.map((a) => a.getComponents().findLast((c) => c.name === 'p2p')?.value ?? ''));
    this.delay = initialMs;
  }

  get state(): RelayState {
    return this._state;
  }

  isRelay(peerId: string): boolean {
    return this.relayIds.has(peerId);
  }

  start(): void {
    if (this.addrs.length === 0) return;
    this.stopped = false;
    this.libp2p.addEventListener('peer:disconnect', this.onDisconnect);
    void this.dial();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.libp2p.removeEventListener('peer:disconnect', this.onDisconnect);
  }

  private readonly onDisconnect = (evt: CustomEvent<{ toString(): string }>) => {
    if (!this.isRelay(evt.detail.toString()) || this.stopped) return;
    if (this.connectedToAny()) return;
    this.setState('waiting');
    this.schedule();
  };

  private connectedToAny(): boolean {
    return this.libp2p.getConnections().some((c) => this.isRelay(c.remotePeer.toString()));
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.dial(), this.delay);
    this.delay = Math.min(this.maxMs, this.delay * 2);
  }

  private async dial(): Promise<void> {
    if (this.stopped) return;
    this.setState('connecting');
    for (const addr of this.addrs) {
      try {
        await this.libp2p.dial(addr, { signal: AbortSignal.timeout(10_000) });
        if (this.stopped) return;
        this.delay = this.initialMs;
        this.setState('connected');
        return;
      } catch {
        // Try the next relay; if none answers, back off.
      }
    }
    if (this.stopped) return;
    this.setState('waiting');
    this.schedule();
  }

  private setState(state: RelayState): void {
    if (state === this._state) return;
    this._state = state;
    this.onState(state);
  }
}
