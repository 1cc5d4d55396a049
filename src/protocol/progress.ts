/**
 * Sprint search progress in the store (docs/protocol.md §13), written on every progress report so
 * that a reload resumes at the next nonce with every find so far. Finds are kept in fixed chunks
 * that are only ever appended to, so a report rewrites its last chunk and a small header, not the
 * whole list: the bytes written over a Sprint grow with the finds, not with finds × reports (before,
 * each report re-encoded and re-sorted the whole list, 1 MiB per report near the 65 536 cap).
 *
 *   progress/<e>                     32 B seed ‖ u64 nextNonce ‖ u64 tried ‖ u32 count
 *   progress/<e>/<seed16>/<k>        up to PROGRESS_CHUNK × (u64 nonce ‖ f64 distance), finds k·C …
 *
 * The header is written after its chunks and names how many finds are valid; a chunk only ever
 * grows, so a crash between the two leaves the old header reading the old finds. Chunk keys carry
 * the seed (first 16 hex digits), so a search on another seed never overwrites finds a header of the
 * first one still names.
 */
import { BinaryReader, BinaryWriter } from '../codec/binary.ts';
import { hex } from './bytes.ts';
import { MAX_CLAIMS } from './constants.ts';
import type { NonceClaim } from '../sprint/claims.ts';
import type { ProtocolStore } from './interfaces.ts';
import { epochKey } from './store.ts';

/** Finds per chunk (4 KiB): a report rewrites one chunk, two when its finds cross a chunk boundary. */
export const PROGRESS_CHUNK = 256;
const HEADER_BYTES = 32 + 8 + 8 + 4;
const ENTRY_BYTES = 16;

export interface Progress {
  readonly nextNonce: number;
  readonly tried: number;
  readonly found: readonly NonceClaim[];
}

const headerKey = (e: number) => `progress/${epochKey(e)}`;
const chunkKey = (e: number, seed: Uint8Array, k: number) => `${headerKey(e)}/${hex(seed).slice(0, 16)}/${String(k).padStart(6, '0')}`;

/**
 * Writes one search's progress. `found` must only grow by appending (the host keeps finds in
 * order of discovery); saves run one at a time, and a save asked for while one runs is folded into
 * the next, so at most two are ever pending and the last one asked is the last one written.
 */
export class ProgressWriter {
  private written: number;
  private next: (Progress & { readonly count: number }) | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  /** `stored`: finds of this seed already in the store (those a resumed search loaded). */
  constructor(
    private readonly store: ProtocolStore,
    private readonly epoch: number,
    private readonly seed: Uint8Array,
    stored: number,
  ) {
    this.written = stored;
  }

  /**
   * No write is started after this: a search aborted for a new seed must not put its header back
   * over the one the new search writes.
   */
  stop(): void {
    this.stopped = true;
    this.next = undefined;
  }

  /** `p.found` may be the caller's live list: the finds saved are those it holds now. */
  save(p: Progress): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.next = { ...p, count: p.found.length };
    this.running ??= this.drain();
    return this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.next) {
        const p = this.next;
        this.next = undefined;
        await this.write(p);
      }
    } finally {
      this.running = undefined;
    }
  }

  private async write(p: Progress & { readonly count: number }): Promise<void> {
    const count = p.count;
    for (let k = Math.floor(this.written / PROGRESS_CHUNK); k * PROGRESS_CHUNK < count; k++) {
      const w = new BinaryWriter();
      for (const c of p.found.slice(k * PROGRESS_CHUNK, Math.min(count, (k + 1) * PROGRESS_CHUNK))) w.u64(c.nonce).f64(c.distance);
      await this.store.put(chunkKey(this.epoch, this.seed, k), w.finish());
    }
    if (this.stopped) return;
    await this.store.put(headerKey(this.epoch), new BinaryWriter().fixed(this.seed, 32).u64(p.nextNonce).u64(p.tried).u32(count).finish());
    this.written = count;
  }
}

/**
 * The progress stored for `seed`, null when there is none or it is another seed's, or 'unreadable'
 * (a record of another version, a missing or short chunk, a repeated nonce): the search restarts.
 */
export async function readProgress(store: ProtocolStore, epoch: number, seed: Uint8Array): Promise<Progress | null | 'unreadable'> {
  const header = await store.get(headerKey(epoch));
  if (!header) return null;
  try {
    if (header.length !== HEADER_BYTES) return 'unreadable';
    const r = new BinaryReader(header);
    if (hex(r.fixed(32)) !== hex(seed)) return null;
    const nextNonce = r.u64();
    const tried = r.u64();
    const count = r.u32();
    if (count > MAX_CLAIMS) return 'unreadable';
    const found: NonceClaim[] = [];
    const seen = new Set<number>();
    for (let k = 0; k * PROGRESS_CHUNK < count; k++) {
      const chunk = await store.get(chunkKey(epoch, seed, k));
      const want = Math.min(PROGRESS_CHUNK, count - k * PROGRESS_CHUNK);
      if (!chunk || chunk.length % ENTRY_BYTES !== 0 || chunk.length < want * ENTRY_BYTES) return 'unreadable';
      const c = new BinaryReader(chunk);
      for (let i = 0; i < want; i++) {
        const claim = { nonce: c.u64(), distance: c.f64() };
        if (!Number.isFinite(claim.distance) || claim.distance < 0 || seen.has(claim.nonce)) return 'unreadable';
        seen.add(claim.nonce);
        found.push(claim);
      }
    }
    return { nextNonce, tried, found };
  } catch {
    return 'unreadable';
  }
}
