/**
 * Persistence through `ProtocolStore` (interfaces.ts): a key → bytes map. `MemoryStore` serves
 * tests and the simulation; the runtime provides IndexedDB and file stores with the same keys:
 *
 *   head                  u64 epoch of the newest derived state
 *   state/<epoch>         encodeState           cert/<epoch>   encodeCertificate
 *   msg/<epoch>/<id>      a verified message    list/<epoch>/<root>   a nonce list we hold
 *   own/<epoch>/<kind>    bytes we published (re-sent as they are after a restart)
 *   secret/<epoch>        our seed secret, written before its commitment is published
 *   owed/<epoch>          (empty) a vote we owe: the signer was not ready (host.ts retryOwedVotes)
 *   progress/<epoch>      our Sprint progress: 32 B seed ‖ u64 nextNonce ‖ u64 tried ‖ u32 finds
 *   progress/<epoch>/<seed16>/<k>   its finds in chunks (progress.ts)
 */
import type { ProtocolStore } from './interfaces.ts';

/** Epoch numbers in keys are zero-padded so that key order is epoch order. */
export const epochKey = (epoch: number): string => String(epoch).padStart(12, '0');

export class MemoryStore implements ProtocolStore {
  private readonly map = new Map<string, Uint8Array>();
  /** Bytes written, for reports. */
  bytesWritten = 0;

  async get(key: string): Promise<Uint8Array | undefined> {
    const v = this.map.get(key);
    return v && v.slice();
  }
  async put(key: string, value: Uint8Array): Promise<void> {
    this.bytesWritten += value.length;
    this.map.set(key, value.slice());
  }
  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }
  async keys(prefix: string): Promise<string[]> {
    return [...this.map.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  get size(): number {
    return this.map.size;
  }
}
