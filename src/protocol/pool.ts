/**
 * The set of verified messages a peer holds, per epoch, with the local time each arrived (only
 * validators' "was this proof on time?" uses arrival times; the ledger never does).
 *
 * Bounded per sender (docs/protocol.md §13 "Pool bound"): of the kinds a sender signs once per epoch
 * (commit, reveal, proof, validation, vote), the pool keeps per (epoch, kind, sender) only the
 * smallest-id message of each body, and at most MAX_BODIES_PER_SENDER bodies (those whose ids are
 * smallest). The ledger's canonical choice (one body: its smallest id; two or more: equivocated)
 * and a certificate's votes come out the same from these as from every message, so hosts that
 * hold different copies still agree once synced; but one key can no longer fill every peer's pool,
 * store and sync answers with copies that differ only in their timestamp, or in their body.
 */
import { hex } from './bytes.ts';
import type { KindName, Message, ProofMessage, VoteMessage } from './messages.ts';

/** Two bodies prove an equivocation; a third adds nothing. */
export const MAX_BODIES_PER_SENDER = 2;

/** Kinds of which an honest sender signs one per epoch (split inference messages are many per sender). */
const ONE_PER_EPOCH: ReadonlySet<KindName> = new Set(['commit', 'reveal', 'proof', 'validation', 'vote']);

const slotKey = (m: Message): string => `${m.kind}/${hex(m.sender)}`;

export interface Added {
  /** The message is new and kept. */
  readonly added: boolean;
  /** Messages it displaced (a same-body copy with a larger id, or a body beyond the bound). */
  readonly evicted: readonly Message[];
}

const NOT_ADDED: Added = { added: false, evicted: [] };

export class MessagePool {
  private readonly byEpoch = new Map<number, Map<string, Message>>();
  private readonly slots = new Map<number, Map<string, Message[]>>();
  private readonly arrival = new Map<string, number>();

  /** Whether add would keep `m` (checked before its signature is: a copy it would refuse costs no verification). */
  admits(m: Message): boolean {
    if (this.has(m.epoch, m.id)) return false;
    return this.placed(m).kept.includes(m);
  }

  add(m: Message, arrivedAt: number): Added {
    let set = this.byEpoch.get(m.epoch);
    if (!set) this.byEpoch.set(m.epoch, (set = new Map()));
    if (set.has(m.id)) return NOT_ADDED;
    const { kept, evicted } = this.placed(m);
    if (!kept.includes(m)) return NOT_ADDED;
    if (ONE_PER_EPOCH.has(m.kind)) {
      let slots = this.slots.get(m.epoch);
      if (!slots) this.slots.set(m.epoch, (slots = new Map()));
      slots.set(slotKey(m), kept);
    }
    for (const x of evicted) {
      set.delete(x.id);
      this.arrival.delete(x.id);
    }
    set.set(m.id, m);
    this.arrival.set(m.id, arrivedAt);
    return { added: true, evicted };
  }

  /** The sender's messages of m's kind and epoch with m among them, after the bound: what stays and what goes. */
  private placed(m: Message): { kept: Message[]; evicted: Message[] } {
    if (!ONE_PER_EPOCH.has(m.kind)) return { kept: [m], evicted: [] };
    const held = this.slots.get(m.epoch)?.get(slotKey(m)) ?? [];
    const smallestPerBody = new Map<string, Message>();
    for (const x of [...held, m]) {
      const have = smallestPerBody.get(x.bodyKey);
      if (!have || x.id < have.id) smallestPerBody.set(x.bodyKey, x);
    }
    const kept = [...smallestPerBody.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).slice(0, MAX_BODIES_PER_SENDER);
    return { kept, evicted: held.filter((x) => !kept.includes(x)) };
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
      this.slots.delete(e);
    }
  }
}
