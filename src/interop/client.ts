/**
 * A minimal Sprintnet client written from docs/network.md and docs/wallet.md alone, on generic
 * packages only (libp2p, noise, yamux, websockets, identify, gossipsub, @noble/*). It imports
 * nothing from src/node or src/wallet: if the docs are wrong or incomplete, the interop test fails.
 *
 * It joins a relay over websockets, subscribes to the presence topic, decodes and verifies
 * envelopes, publishes its own signed presence, and makes end-to-end encrypted requests.
 */
import { createLibp2p, type Libp2p } from 'libp2p';
import { webSockets } from '@libp2p/websockets';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { gossipsub, type GossipSub, type Message } from '@libp2p/gossipsub';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Stream } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';

// ---- docs/network.md "Envelope" and src/codec encoding: little-endian, string/bytes = u32 length + bytes ----

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Writer {
  private parts: Uint8Array[] = [];
  u8(v: number): this {
    this.parts.push(Uint8Array.of(v));
    return this;
  }
  u16(v: number): this {
    this.parts.push(Uint8Array.of(v & 0xff, v >>> 8));
    return this;
  }
  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.parts.push(b);
    return this;
  }
  u64(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    this.parts.push(b);
    return this;
  }
  raw(b: Uint8Array): this {
    this.parts.push(b);
    return this;
  }
  bytes(b: Uint8Array): this {
    return this.u32(b.length).raw(b);
  }
  string(s: string): this {
    return this.bytes(utf8ToBytes(s));
  }
  done(): Uint8Array {
    return concatBytes(...this.parts);
  }
}

class Reader {
  at = 0;
  private readonly view: DataView;
  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private take(n: number): number {
    if (this.at + n > this.b.length) throw new Error('truncated');
    const at = this.at;
    this.at += n;
    return at;
  }
  u8(): number {
    return this.view.getUint8(this.take(1));
  }
  u16(): number {
    return this.view.getUint16(this.take(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.take(4), true);
  }
  u64(): number {
    const v = this.view.getBigUint64(this.take(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('u64 over 2^53 - 1');
    return Number(v);
  }
  fixed(n: number): Uint8Array {
    const at = this.take(n);
    return this.b.slice(at, at + n);
  }
  bytes(max: number): Uint8Array {
    const n = this.u32();
    if (n > max) throw new Error('field over its limit');
    return this.fixed(n);
  }
  string(max: number): string {
    return utf8.decode(this.bytes(max));
  }
  end(): void {
    if (this.at !== this.b.length) throw new Error('trailing bytes');
  }
}

export const ENVELOPE_VERSION = 1;
const GOSSIP_ENVELOPE_TYPE = 4;

export interface Envelope {
  version: number;
  networkId: string;
  topic: string;
  sender: Uint8Array;
  id: Uint8Array;
  timestampMs: number;
  sprint: number;
  payload: Uint8Array;
  signature: Uint8Array;
  /** Every byte before the signature. */
  signedPart: Uint8Array;
}

export function decodeEnvelope(bytes: Uint8Array): Envelope {
  const r = new Reader(bytes);
  const version = r.u16();
  const networkId = r.string(64);
  const topic = r.string(128);
  const sender = r.fixed(32);
  const id = r.fixed(16);
  const timestampMs = r.u64();
  const sprint = r.u64();
  const payload = r.bytes(bytes.length);
  const signedPart = bytes.slice(0, r.at);
  const signature = r.fixed(64);
  r.end();
  return { version, networkId, topic, sender, id, timestampMs, sprint, payload, signature, signedPart };
}

/** "sprintnet/sig" (13 bytes, no prefix) ‖ u16 type ‖ u16 version ‖ lp(networkId) ‖ lp(bytes), docs/wallet.md "Signing domains". */
function signedMessage(networkId: string, version: number, bytes: Uint8Array): Uint8Array {
  return new Writer().raw(utf8ToBytes('sprintnet/sig')).u16(GOSSIP_ENVELOPE_TYPE).u16(version).string(networkId).bytes(bytes).done();
}

export function verifyEnvelope(e: Envelope): boolean {
  try {
    return ed25519.verify(e.signature, signedMessage(e.networkId, e.version, e.signedPart), e.sender, { zip215: false });
  } catch {
    return false;
  }
}

export function signEnvelope(
  seed: Uint8Array,
  fields: { networkId: string; topic: string; payload: Uint8Array; timestampMs?: number; sprint?: number; version?: number },
): Uint8Array {
  const version = fields.version ?? ENVELOPE_VERSION;
  const signedPart = new Writer()
    .u16(version)
    .string(fields.networkId)
    .string(fields.topic)
    .raw(ed25519.getPublicKey(seed))
    .raw(randomBytes(16))
    .u64(fields.timestampMs ?? Date.now())
    .u64(fields.sprint ?? 0)
    .bytes(fields.payload)
    .done();
  const signature = ed25519.sign(signedMessage(fields.networkId, version, signedPart), seed);
  return concatBytes(signedPart, signature);
}

// ---- presence payload (docs/network.md "Topics") ----

export type Role = 'browser' | 'host' | 'relay';
const ROLES: Role[] = ['browser', 'host', 'relay'];

export interface Presence {
  role: Role;
  label: string;
  multiaddrs: string[];
}

export function decodePresence(bytes: Uint8Array): Presence {
  const r = new Reader(bytes);
  const role = ROLES[r.u8()];
  if (!role) throw new Error('unknown role');
  const label = r.string(64);
  const n = r.u8();
  if (n > 16) throw new Error('too many multiaddrs');
  const multiaddrs: string[] = [];
  for (let i = 0; i < n; i++) multiaddrs.push(r.string(512));
  r.end();
  return { role, label, multiaddrs };
}

export function encodePresence(p: Presence): Uint8Array {
  const w = new Writer().u8(ROLES.indexOf(p.role)).string(p.label).u8(p.multiaddrs.length);
  for (const a of p.multiaddrs) w.string(a);
  return w.done();
}

export const topicName = (networkId: string, name: string) => `/sprintnet/${networkId}/${name}/1`;
export const protocolName = (networkId: string, name: string) => `/sprintnet/${networkId}/rpc/${name}/1`;

export interface VerifiedPresence extends Presence {
  peerId: string;
  envelope: Envelope;
}

// ---- the client ----

export interface InteropClientOptions {
  /** The wallet's 32-byte Ed25519 secret seed: the libp2p key is made from it, so peer id = wallet identity. */
  seed: Uint8Array;
  /** From the relay's network.json. */
  networkId: string;
  relays: string[];
}

export class InteropClient {
  readonly presences = new Map<string, VerifiedPresence>();
  /** Messages on the presence topic this client could not decode or verify, with why. */
  readonly dropped: string[] = [];

  private constructor(
    readonly libp2p: Libp2p<{ pubsub: GossipSub; identify: unknown }>,
    private readonly options: InteropClientOptions,
  ) {}

  static async start(options: InteropClientOptions): Promise<InteropClient> {
    const libp2p = await createLibp2p({
      privateKey: await generateKeyPairFromSeed('Ed25519', options.seed),
      transports: [webSockets()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      // A local relay is ws:// on a private address, which libp2p refuses to dial by default.
      connectionGater: { denyDialMultiaddr: () => false },
      services: {
        identify: identify(),
        pubsub: gossipsub({ globalSignaturePolicy: 'StrictSign', allowPublishToZeroTopicPeers: true, fallbackToFloodsub: false, emitSelf: false }),
      },
    });
    const client = new InteropClient(libp2p, options);
    libp2p.services.pubsub.addEventListener('message', (evt) => client.onMessage(evt.detail));
    libp2p.services.pubsub.subscribe(topicName(options.networkId, 'presence'));
    for (const relay of options.relays) await libp2p.dial(multiaddr(relay));
    return client;
  }

  get peerId(): string {
    return this.libp2p.peerId.toString();
  }

  get publicKey(): Uint8Array {
    return ed25519.getPublicKey(this.options.seed);
  }

  /** Decodes and verifies a presence envelope; returns why it is refused, or the presence. */
  judge(msg: Message): VerifiedPresence | string {
    if (msg.topic !== topicName(this.options.networkId, 'presence')) return 'other topic';
    let e: Envelope;
    let p: Presence;
    try {
      e = decodeEnvelope(msg.data);
      p = decodePresence(e.payload);
    } catch (err) {
      return `malformed: ${(err as Error).message}`;
    }
    if (e.version !== ENVELOPE_VERSION || e.networkId !== this.options.networkId || e.topic !== 'presence') return 'wrong version, network or topic';
    if (!verifyEnvelope(e)) return 'bad signature';
    // The gossipsub signer must be the envelope's sender: its peer id carries the same Ed25519 key.
    if (msg.type !== 'signed' || msg.key.type !== 'Ed25519' || !equal(msg.key.raw, e.sender)) return 'wrong origin';
    if (Math.abs(e.timestampMs - Date.now()) > 5 * 60_000) return 'stale';
    const peerId = msg.from.toString();
    for (const a of p.multiaddrs) {
      if (!a.endsWith(`/p2p/${peerId}`)) return 'multiaddr not bound to the sender';
    }
    return { ...p, peerId, envelope: e };
  }

  private onMessage(msg: Message): void {
    const verdict = this.judge(msg);
    if (typeof verdict === 'string') {
      if (verdict !== 'other topic') this.dropped.push(verdict);
      return;
    }
    this.presences.set(verdict.peerId, verdict);
  }

  /** Signs and gossips this client's presence. */
  async publishPresence(presence: Presence): Promise<void> {
    await this.publishRaw(signEnvelope(this.options.seed, { networkId: this.options.networkId, topic: 'presence', payload: encodePresence(presence) }));
  }

  async publishRaw(data: Uint8Array): Promise<void> {
    await this.libp2p.services.pubsub.publish(topicName(this.options.networkId, 'presence'), data);
  }

  /**
   * An end-to-end encrypted request (docs/network.md "Request/response" and "End-to-end
   * encryption") to `peerId`, dialled at one of `addrs` (e.g. from its presence).
   */
  async request(peerId: string, addrs: string[], name: string, payload: Uint8Array, timeoutMs = 10_000): Promise<Uint8Array> {
    const signal = AbortSignal.timeout(timeoutMs);
    const protocol = protocolName(this.options.networkId, name);
    const remote = peerIdFromString(peerId);
    if (remote.type !== 'Ed25519') throw new Error('peer id is not an Ed25519 key');
    let connected = this.libp2p.getConnections(remote).length > 0;
    for (const a of addrs) {
      if (connected) break;
      try {
        await this.libp2p.dial(multiaddr(a), { signal });
        connected = true;
      } catch {
        // next address
      }
    }
    const stream = await this.libp2p.dialProtocol(remote, protocol, { signal });
    try {
      return await this.exchange(stream, protocol, remote.publicKey.raw, payload);
    } finally {
      stream.abort(new Error('done'));
    }
  }

  private async exchange(stream: Stream, protocol: string, responder: Uint8Array, payload: Uint8Array): Promise<Uint8Array> {
    const me = this.publicKey;
    const proto = utf8ToBytes(protocol); // raw UTF-8, no length prefix, in both the HKDF info and the AAD
    const e = x25519.utils.randomSecretKey();
    const ePub = x25519.getPublicKey(e);
    const responderX = ed25519.utils.toMontgomery(responder);
    const ikm = concatBytes(x25519.getSharedSecret(e, responderX), x25519.getSharedSecret(ed25519.utils.toMontgomerySecret(this.options.seed), responderX));
    const okm = hkdf(sha256, ikm, ePub, concatBytes(utf8ToBytes('sprintnet/e2e/v1'), me, responder, proto), 64);
    const nonce = randomBytes(24);
    const sealed = concatBytes(nonce, xchacha20poly1305(okm.slice(0, 32), nonce, proto).encrypt(payload));

    const frames = [new Writer().u8(0x01).raw(ePub).u32(sealed.length).done()];
    for (let at = 0; at < sealed.length; at += 16_376) frames.push(concatBytes(Uint8Array.of(0x03), sealed.subarray(at, at + 16_376)));
    for (const f of frames) {
      if (!stream.send(concatBytes(varint(f.length), f))) await stream.onDrain();
    }
    await stream.close();

    const reader = frameReader(stream);
    const head = await reader.next();
    if (head[0] !== 0x02 || head.length !== 6) throw new Error('bad response head');
    const status = head[1];
    const length = new DataView(head.buffer, head.byteOffset).getUint32(2, true);
    const body = new Uint8Array(length);
    for (let at = 0; at < length;) {
      const f = await reader.next();
      if (f[0] !== 0x03 || at + f.length - 1 > length) throw new Error('bad body frame');
      body.set(f.subarray(1), at);
      at += f.length - 1;
    }
    if (status === 1 || status === 2) throw new Error(`remote ${status === 2 ? 'busy' : 'error'}: ${new TextDecoder().decode(body)}`);
    if (status !== 0) throw new Error(`unknown status ${status}`);
    return xchacha20poly1305(okm.slice(32), body.subarray(0, 24), proto).decrypt(body.subarray(24));
  }

  async stop(): Promise<void> {
    await this.libp2p.stop();
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Unsigned LEB128, the length prefix of every stream frame. */
function varint(n: number): Uint8Array {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Uint8Array.from(out);
}

/** Splits a stream into varint-length-prefixed frames. */
function frameReader(stream: AsyncIterable<Uint8Array | { subarray(): Uint8Array }>) {
  const it = stream[Symbol.asyncIterator]();
  let buf = new Uint8Array(0);
  const fill = async () => {
    const r = await it.next();
    if (r.done) throw new Error('stream ended');
    const chunk = r.value instanceof Uint8Array ? r.value : r.value.subarray();
    buf = concatBytes(buf, chunk);
  };
  return {
    async next(): Promise<Uint8Array> {
      for (;;) {
        let len = 0;
        let shift = 0;
        let i = 0;
        let complete = false;
        for (let b = buf[i]; b !== undefined && i < 5; b = buf[i]) {
          i++;
          len += (b & 0x7f) * 2 ** shift;
          shift += 7;
          if (!(b & 0x80)) {
            complete = true;
            break;
          }
        }
        if (complete && buf.length >= i + len) {
          const frame = buf.slice(i, i + len);
          buf = buf.slice(i + len);
          return frame;
        }
        await fill();
      }
    },
  };
}
