/**
 * The set of verified messages a peer holds, per epoch, with the local time each arrived (only
 * validators' "was this proof on time?" uses arrival times; the ledger never does).
 */
import type { Message, ProofMessage, VoteMessage } from './messages.ts';

export class MessagePool {
  private readonly byEpoch = new Map<number, Map<string, Message>>();
  private readonly arrival = new Map<string, number>();

  /** True when the message is new. */
  add(m: Message, arrivedAt: number): boolean {
    let set = this.byEpoch.get(m.epoch);
    if (!set) this.byEpoch.set(m.epoch, (set = new Map()));
    if (set.has(m.id)) return false;
    set.set(m.id, m);
    this.arrival.set(m.id, arrivedAt);
    return true;
  }

  has(epoch: number, id: string): boolean {
    return this.byEpoch.get(epoch)?.has(id) ?? false;
  }

  get(epoch: number, id: string): Message | undefined {
    return this.byEpoch.get(epoch)?.get(id);
  }

  arrivedAt(id: string): number | undefined {
    return this.arrival.get(id);
  }

  messages(epoch: number): Message[] {
    return [...(this.byEpoch.get(epoch)?.values() ?? [])];
  }

  ids(epoch: number): string[] {
    return [...(this.byEpoch.get(epoch)?.keys() ?? [])].sort();
  }

  proofs(epoch: number): ProofMessage[] {
    return this.messages(epoch).filter((m): m is ProofMessage => m.kind === 'proof');
  }

  votes(epoch: number): VoteMessage[] {
    return this.messages(epoch).filter((m): m is VoteMessage => m.kind === 'vote');
  }

  epochs(): number[] {
    return [...this.byEpoch.keys()].sort((a, b) => a - b);
  }

  /** Forgets epochs before `epoch`, except those `spare` names. */
  prune(epoch: number, spare: (e: number) => boolean = () => false): void {
    for (const [e, set] of this.byEpoch) {
      if (e >= epoch || spare(e)) continue;
      for (const id of set.keys()) this.arrival.delete(id);
      this.byEpoch.delete(e);
    }
  }
}
