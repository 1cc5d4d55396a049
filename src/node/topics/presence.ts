/**
 * `presence`: each node announces itself every few seconds. Peers use it to discover one another
 * (the multiaddrs say how to reach the sender, including its relayed /webrtc address) and the
 * network view lists it.
 *
 * Payload: u8 role (0 browser, 1 host, 2 relay; any other value is a DecodeError) ‖ string label
 * (≤ 64 UTF-8 bytes) ‖ u8 n (≤ 16) ‖ n × string multiaddr (text form, ≤ 512 bytes each).
 * The check (after the signature) requires every multiaddr to parse and to end with
 * `/p2p/<sender's peer id>`; the relay role is accepted only from configured relay peer ids.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { BinaryReader, BinaryWriter, DecodeError } from '../../codec/binary.ts';
import type { TopicCheckContext, TopicSpec } from '../registry.ts';

export const PRESENCE_TOPIC = 'presence';
export const MAX_PRESENCE_ADDRS = 16;
export const MAX_PRESENCE_ADDR_BYTES = 512;
export const MAX_PRESENCE_LABEL_BYTES = 64;

export type NodeRole = 'browser' | 'host' | 'relay';
const ROLES: NodeRole[] = ['browser', 'host', 'relay'];

export interface Presence {
  role: NodeRole;
  /** Free text shown in the network view, e.g. "chromium" or a host name. */
  label: string;
  multiaddrs: string[];
}

const encoder = new TextEncoder();

/** The longest prefix of `s` whose UTF-8 encoding fits in `maxBytes`, never splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (encoder.encode(s).length <= maxBytes) return s;
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = encoder.encode(ch).length;
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out;
}

export const presenceCodec = {
  encode(p: Presence): Uint8Array {
    // Clamp rather than throw: presence is best effort, and peers would reject an oversize one.
    const addrs = p.multiaddrs.filter((a) => encoder.encode(a).length <= MAX_PRESENCE_ADDR_BYTES).slice(0, MAX_PRESENCE_ADDRS);
    const w = new BinaryWriter().u8(ROLES.indexOf(p.role)).string(truncateUtf8(p.label, MAX_PRESENCE_LABEL_BYTES)).u8(addrs.length);
    for (const a of addrs) w.string(a);
    return w.finish();
  },
  decode(bytes: Uint8Array): Presence {
    const r = new BinaryReader(bytes);
    const role = ROLES[r.u8()];
    if (!role) throw new DecodeError('unknown role');
    const label = r.string(MAX_PRESENCE_LABEL_BYTES);
    const n = r.u8();
    if (n > MAX_PRESENCE_ADDRS) throw new DecodeError(`too many addresses: ${n}`);
    const multiaddrs: string[] = [];
    for (let i = 0; i < n; i++) multiaddrs.push(r.string(MAX_PRESENCE_ADDR_BYTES));
    r.end();
    return { role, label, multiaddrs };
  },
};

/** Why a decoded presence is malformed for its sender (judged on the bytes alone), or undefined. */
export function checkPresence(p: Presence, context: Pick<TopicCheckContext, 'senderPeerId'>): string | undefined {
  for (const a of p.multiaddrs) {
    let last: { name: string; value?: string } | undefined;
    try {
      last = multiaddr(a).getComponents().at(-1);
    } catch {
      return `unparseable multiaddr ${JSON.stringify(a.slice(0, 80))}`;
    }
    if (last?.name !== 'p2p' || last.value !== context.senderPeerId) {
      return `multiaddr ${JSON.stringify(a.slice(0, 80))} does not end with /p2p/<sender>`;
    }
  }
  return undefined;
}

/** The relay role is granted only to this node's configured relays. */
export function authorizePresence(p: Presence, context: TopicCheckContext): string | undefined {
  if (p.role === 'relay' && !context.relayPeerIds.has(context.senderPeerId)) {
    return 'relay role claimed by a peer that is not a configured relay';
  }
  return undefined;
}

export const presenceTopic: TopicSpec<Presence> = {
  name: PRESENCE_TOPIC,
  codec: presenceCodec,
  maxPayloadBytes: 1 + 4 + MAX_PRESENCE_LABEL_BYTES + 1 + MAX_PRESENCE_ADDRS * (4 + MAX_PRESENCE_ADDR_BYTES),
  check: (value, _sender, context) => checkPresence(value, context),
  authorize: authorizePresence,
};
