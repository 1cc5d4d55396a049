/**
 * The Sprint request/response protocol (docs/protocol.md §"Sync"): one request per call,
 * `u8 op ‖ fields`, answered with `u8 status (0 ok, 1 not found) ‖ fields`.
 *
 * | op | request                     | response (status 0)                                  |
 * | 1  | u64 epoch                   | u32 count ‖ 16 × 32 B bucket hashes                  |
 * | 2  | u64 epoch ‖ u16 bucket mask | u32 n ‖ n × 32 B message id                         |
 * | 3  | u64 epoch ‖ u16 n ‖ n × id  | u16 n ‖ n × bytes(message)                           |
 * | 4  | 32 B nonce-list root        | bytes(list)                                          |
 * | 5  | u64 epoch                   | bytes(state) ‖ bytes(certificate)                    |
 * | 6  | (nothing)                   | u64 newest certified epoch + 1 (0: none)             |
 *
 * Set reconciliation by hashes: ids of one epoch fall into 16 buckets by their first hex digit;
 * a peer compares bucket hashes (op 1), lists the ids of the buckets that differ (op 2) and
 * fetches what it lacks (op 3). Two peers whose sets differ by d messages exchange 16 hashes,
 * the ids of at most min(16, d) buckets, and the d messages.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { BinaryReader, BinaryWriter, DecodeError } from '../codec/binary.ts';
import { HASH_BYTES, MAX_NONCE_LIST_BYTES, MAX_SYNC_IDS, SYNC_BUCKETS, TAG_BUCKETS } from './constants.ts';
import { ProtocolError } from './errors.ts';
import { genesisId, type Genesis } from './genesis.ts';
import { MAX_ANY_MESSAGE_BYTES } from './messages.ts';
import { hexBytes, hex, tagged } from './bytes.ts';

/**
 * The request/response protocol's name, per genesis: peers of two geneses of one network id (a new
 * demo genesis reuses the id) share presence, but never each other's sync (nor Sprint gossip, whose
 * topics are per genesis too: src/node/topics sprintTopic). On libp2p it becomes
 * `/sprintnet/<networkId>/rpc/sprint-sync-<genesis id>/1` (src/node/config.ts protocolName).
 */
export const syncProtocol = (g: Genesis): string => `sprint-sync-${genesisId(g)}`;

export const Op = { summary: 1, ids: 2, get: 3, list: 4, state: 5, head: 6 } as const;
export type OpName = keyof typeof Op;

export type SyncRequest =
  | { op: 'summary'; epoch: number }
  | { op: 'ids'; epoch: number; mask: number }
  | { op: 'get'; epoch: number; ids: string[] }
  | { op: 'list'; root: Uint8Array }
  | { op: 'state'; epoch: number }
  | { op: 'head' };

/** Largest state or certificate we accept in a response. */
export const MAX_STATE_BYTES = 32 * 1024 * 1024;

export const bucketOf = (id: string): number => parseInt(id[0]!, 16);

/** 16 hashes: bucket b = SHA-256(utf8("sprintnet/sync-bucket/v1") ‖ its ids sorted, as bytes). */
export function bucketHashes(ids: Iterable<string>): Uint8Array[] {
  const buckets: string[][] = Array.from({ length: SYNC_BUCKETS }, () => []);
  for (const id of ids) buckets[bucketOf(id)]!.push(id);
  return buckets.map((b) => sha256(tagged(TAG_BUCKETS, hexBytes(b.sort().join('')))));
}

export function encodeRequest(r: SyncRequest): Uint8Array {
  const w = new BinaryWriter().u8(Op[r.op]);
  switch (r.op) {
    case 'summary':
    case 'state':
      w.u64(r.epoch);
      break;
    case 'ids':
      w.u64(r.epoch).u16(r.mask);
      break;
    case 'get':
      if (r.ids.length > MAX_SYNC_IDS) throw new ProtocolError('OVERSIZE', `at most ${MAX_SYNC_IDS} ids per request`);
      w.u64(r.epoch).u16(r.ids.length);
      for (const id of r.ids) w.fixed(hexBytes(id), HASH_BYTES);
      break;
    case 'list':
      w.fixed(r.root, HASH_BYTES);
      break;
    case 'head':
      break;
  }
  return w.finish();
}

export function decodeRequest(bytes: Uint8Array): SyncRequest {
  try {
    const r = new BinaryReader(bytes, 64);
    const op = r.u8();
    let out: SyncRequest;
    switch (op) {
      case Op.summary:
        out = { op: 'summary', epoch: r.u64() };
        break;
      case Op.state:
        out = { op: 'state', epoch: r.u64() };
        break;
      case Op.ids:
        out = { op: 'ids', epoch: r.u64(), mask: r.u16() };
        break;
      case Op.get: {
        const epoch = r.u64();
        const n = r.u16();
        if (n > MAX_SYNC_IDS) throw new DecodeError(`${n} ids exceed ${MAX_SYNC_IDS}`);
        const ids = Array.from({ length: n }, () => hex(r.fixed(HASH_BYTES)));
        out = { op: 'get', epoch, ids };
        break;
      }
      case Op.list:
        out = { op: 'list', root: r.fixed(HASH_BYTES) };
        break;
      case Op.head:
        out = { op: 'head' };
        break;
      default:
        throw new DecodeError(`unknown sync op ${op}`);
    }
    r.end();
    return out;
  } catch (e) {
    if (e instanceof DecodeError) throw new ProtocolError('BAD_REQUEST', `sync request: ${e.message}`);
    throw e;
  }
}

export const NOT_FOUND = Uint8Array.of(1);
export const ok = (w: BinaryWriter): Uint8Array => {
  const body = w.finish();
  const out = new Uint8Array(body.length + 1);
  out.set(body, 1);
  return out;
};

/** The response body after its status byte, or null when the peer has nothing (status 1). */
function open(bytes: Uint8Array, maxField: number): BinaryReader | null {
  if (bytes.length === 0) throw new ProtocolError('MALFORMED', 'empty sync response');
  if (bytes[0] === 1 && bytes.length === 1) return null;
  if (bytes[0] !== 0) throw new ProtocolError('MALFORMED', `sync response status ${bytes[0]}`);
  return new BinaryReader(bytes.subarray(1), maxField);
}

function parse<T>(bytes: Uint8Array, maxField: number, read: (r: BinaryReader) => T): T | null {
  try {
    const r = open(bytes, maxField);
    if (!r) return null;
    const v = read(r);
    r.end();
    return v;
  } catch (e) {
    if (e instanceof DecodeError) throw new ProtocolError('MALFORMED', `sync response: ${e.message}`);
    throw e;
  }
}

export const encodeSummary = (count: number, hashes: Uint8Array[]): Uint8Array => {
  const w = new BinaryWriter().u32(count);
  for (const h of hashes) w.fixed(h, HASH_BYTES);
  return ok(w);
};
export const decodeSummary = (b: Uint8Array) =>
  parse(b, 0, (r) => ({ count: r.u32(), hashes: Array.from({ length: SYNC_BUCKETS }, () => r.fixed(HASH_BYTES)) }));

export const encodeIds = (ids: string[]): Uint8Array => {
  const w = new BinaryWriter().u32(ids.length);
  for (const id of ids) w.fixed(hexBytes(id), HASH_BYTES);
  return ok(w);
};
/** At most 2^20 ids (32 MiB) in one answer. */
export const decodeIds = (b: Uint8Array) =>
  parse(b, 0, (r) => {
    const n = r.u32();
    if (n > 1 << 20) throw new DecodeError(`${n} ids`);
    return Array.from({ length: n }, () => hex(r.fixed(HASH_BYTES)));
  });

/**
 * A `get` answer stops before the message that would pass MAX_SYNC_ANSWER_BYTES (the
 * request/response limit is 4 MiB): inference proofs are up to 64 KiB each, and one answer too
 * large would lose the whole batch. The asker asks the ids it left out again in the same sync
 * round (ProtocolHost.syncRound: up to SYNC_GET_PASSES passes, while each brings something new).
 */
export const MAX_SYNC_ANSWER_BYTES = 3.5 * 1024 * 1024;
export const encodeMessages = (messages: Uint8Array[], maxBytes = MAX_SYNC_ANSWER_BYTES): Uint8Array => {
  let size = 2;
  let n = 0;
  while (n < messages.length && size + 4 + messages[n]!.length <= maxBytes) size += 4 + messages[n++]!.length;
  const w = new BinaryWriter().u16(n);
  for (const m of messages.slice(0, n)) w.bytes(m);
  return ok(w);
};
export const decodeMessages = (b: Uint8Array) =>
  parse(b, MAX_ANY_MESSAGE_BYTES, (r) => {
    const n = r.u16();
    if (n > MAX_SYNC_IDS) throw new DecodeError(`${n} messages exceed ${MAX_SYNC_IDS}`);
    return Array.from({ length: n }, () => r.bytes());
  });

export const encodeList = (list: Uint8Array): Uint8Array => ok(new BinaryWriter().bytes(list));
export const decodeList = (b: Uint8Array) => parse(b, MAX_NONCE_LIST_BYTES, (r) => r.bytes());

export const encodeStateResponse = (state: Uint8Array, cert: Uint8Array): Uint8Array => ok(new BinaryWriter().bytes(state).bytes(cert));
export const decodeStateResponse = (b: Uint8Array) => parse(b, MAX_STATE_BYTES, (r) => ({ state: r.bytes(), cert: r.bytes() }));

export const encodeHead = (next: number): Uint8Array => ok(new BinaryWriter().u64(next));
export const decodeHead = (b: Uint8Array) => parse(b, 0, (r) => r.u64());
