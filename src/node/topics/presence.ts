/**
 * `presence`: each node announces itself every few seconds. Peers use it to discover one another
 * (the multiaddrs say how to reach the sender, including its relayed /webrtc address) and the
 * network view lists it.
 */
import { BinaryReader, BinaryWriter, DecodeError } from '../../codec/binary.ts';
import type { TopicSpec } from '../registry.ts';

export const PRESENCE_TOPIC = 'presence';
const MAX_ADDRS = 16;
const MAX_ADDR_BYTES = 512;
const MAX_LABEL_BYTES = 64;

export type NodeRole = 'browser' | 'host' | 'relay';
const ROLES: NodeRole[] = ['browser', 'host', 'relay'];

export interface Presence {
  role: NodeRole;
  /** Free text shown in the network view, e.g. "chromium" or a host name. */
  label: string;
  multiaddrs: string[];
}

export const presenceCodec = {
  encode(p: Presence): Uint8Array {
    // Clamp rather than throw: presence is best effort, and peers would reject an oversize one.
    const addrs = p.multiaddrs.filter((a) => a.length <= MAX_ADDR_BYTES).slice(0, MAX_ADDRS);
    const w = new BinaryWriter().u8(ROLES.indexOf(p.role)).string(p.label.slice(0, MAX_LABEL_BYTES / 4)).u8(addrs.length);
    for (const a of addrs) w.string(a);
    return w.finish();
  },
  decode(bytes: Uint8Array): Presence {
    const r = new BinaryReader(bytes);
    const role = ROLES[r.u8()];
    if (!role) throw new DecodeError('unknown role');
    const label = r.string(MAX_LABEL_BYTES);
    const n = r.u8();
    if (n > MAX_ADDRS) throw new DecodeError(`too many addresses: ${n}`);
    const multiaddrs: string[] = [];
    for (let i = 0; i < n; i++) multiaddrs.push(r.string(MAX_ADDR_BYTES));
    r.end();
    return { role, label, multiaddrs };
  },
};

export const presenceTopic: TopicSpec<Presence> = {
  name: PRESENCE_TOPIC,
  codec: presenceCodec,
  maxPayloadBytes: 1 + 4 + MAX_LABEL_BYTES + 1 + MAX_ADDRS * (4 + MAX_ADDR_BYTES),
};
