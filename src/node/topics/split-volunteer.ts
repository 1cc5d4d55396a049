/**
 * `split-volunteer`: a page or host that serves private split inference announces, every few
 * seconds, which model it serves and which split layers k it accepts, so users find it instead of
 * typing its peer id (docs/split-inference.md §13). The sender is the envelope's signer, so the
 * announcement names no peer id of its own.
 *
 * Payload: u8 version = 2 ‖ model hash[32] ‖ genesis[32] ‖ u16 lowestK ‖ u16 highestK ‖ u16 numLayers
 *          ‖ f64 decode tokens/s of its layers (0 = not measured) ‖ string label (≤ 64 UTF-8 bytes).
 * `genesis` is the genesis hash its receipts name (the ledger that may credit its sessions), 32 zero
 * bytes for none: a user that follows a genesis ranks the volunteers of others last, since it signs
 * no proof for them (docs/split-inference.md §6, §13). Version 1 had no genesis.
 * Refused (DecodeError): another version, truncated or trailing bytes, lowestK < 1, highestK < lowestK,
 * highestK ≥ numLayers, numLayers > 4096, a rate that is not finite or outside [0, 10^6], a long label.
 */
import { BinaryReader, BinaryWriter, DecodeError } from '../../codec/binary.ts';
import type { TopicSpec } from '../registry.ts';
import { truncateUtf8 } from './presence.ts';

export const SPLIT_VOLUNTEER_TOPIC = 'split-volunteer';
export const SPLIT_VOLUNTEER_VERSION = 2;
export const MAX_ANNOUNCED_LAYERS = 4096;
export const MAX_ANNOUNCED_RATE = 1e6;
export const MAX_ANNOUNCEMENT_LABEL_BYTES = 64;
const HASH_BYTES = 32;

/** The genesis of a volunteer whose receipts name none (no ledger credits its sessions). */
export const NO_ANNOUNCED_GENESIS: Uint8Array = new Uint8Array(HASH_BYTES);

export interface VolunteerAnnouncement {
  readonly modelHash: Uint8Array;
  /** The genesis hash its receipts name; NO_ANNOUNCED_GENESIS for none. */
  readonly genesis: Uint8Array;
  /** The split layers k it accepts: it runs [k, numLayers) for any k in [lowestK, highestK]. */
  readonly lowestK: number;
  readonly highestK: number;
  readonly numLayers: number;
  /** Its measured decode rate over the layers it runs, tokens/s; 0 when it has not measured one. */
  readonly decodeTokensPerSecond: number;
  readonly label: string;
}

/** Why an announcement is invalid, or undefined; the same rule for encoding and decoding. */
export function announcementProblem(a: VolunteerAnnouncement): string | undefined {
  if (a.modelHash.length !== HASH_BYTES) return `model hash of ${a.modelHash.length} bytes, not ${HASH_BYTES}`;
  if (a.genesis.length !== HASH_BYTES) return `genesis hash of ${a.genesis.length} bytes, not ${HASH_BYTES}`;
  if (!Number.isInteger(a.numLayers) || a.numLayers < 2 || a.numLayers > MAX_ANNOUNCED_LAYERS)
    return `numLayers ${a.numLayers} outside [2, ${MAX_ANNOUNCED_LAYERS}]`;
  if (!Number.isInteger(a.lowestK) || a.lowestK < 1) return `lowestK ${a.lowestK} is below 1`;
  if (!Number.isInteger(a.highestK) || a.highestK < a.lowestK || a.highestK >= a.numLayers)
    return `highestK ${a.highestK} outside [lowestK ${a.lowestK}, numLayers ${a.numLayers})`;
  if (!Number.isFinite(a.decodeTokensPerSecond) || a.decodeTokensPerSecond < 0 || a.decodeTokensPerSecond > MAX_ANNOUNCED_RATE)
    return `decode rate ${a.decodeTokensPerSecond} outside [0, ${MAX_ANNOUNCED_RATE}]`;
  return undefined;
}

export const volunteerAnnouncementCodec = {
  encode(a: VolunteerAnnouncement): Uint8Array {
    const problem = announcementProblem(a);
    // Our own announcement being wrong is a bug here, not bad input from a peer.
    if (problem) throw new RangeError(`split-volunteer announcement: ${problem}`);
    return new BinaryWriter()
      .u8(SPLIT_VOLUNTEER_VERSION)
      .fixed(a.modelHash, HASH_BYTES)
      .fixed(a.genesis, HASH_BYTES)
      .u16(a.lowestK)
      .u16(a.highestK)
      .u16(a.numLayers)
      .f64(a.decodeTokensPerSecond)
      .string(truncateUtf8(a.label, MAX_ANNOUNCEMENT_LABEL_BYTES))
      .finish();
  },
  decode(bytes: Uint8Array): VolunteerAnnouncement {
    const r = new BinaryReader(bytes);
    const version = r.u8();
    if (version !== SPLIT_VOLUNTEER_VERSION) throw new DecodeError(`split-volunteer version ${version}`);
    const a: VolunteerAnnouncement = {
      modelHash: r.fixed(HASH_BYTES),
      genesis: r.fixed(HASH_BYTES),
      lowestK: r.u16(),
      highestK: r.u16(),
      numLayers: r.u16(),
      decodeTokensPerSecond: r.f64(),
      label: r.string(MAX_ANNOUNCEMENT_LABEL_BYTES),
    };
    r.end();
    const problem = announcementProblem(a);
    if (problem) throw new DecodeError(problem);
    return a;
  },
};

export const splitVolunteerTopic: TopicSpec<VolunteerAnnouncement> = {
  name: SPLIT_VOLUNTEER_TOPIC,
  codec: volunteerAnnouncementCodec,
  maxPayloadBytes: 1 + HASH_BYTES + HASH_BYTES + 2 + 2 + 2 + 8 + 4 + MAX_ANNOUNCEMENT_LABEL_BYTES,
};
