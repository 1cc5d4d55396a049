import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { DEFAULT_NETWORK_CONFIG } from '../config.ts';
import { peerIdFromPublicKeyBytes } from '../node.ts';
import { PresenceTable, TokenBucket, webrtcDialAddr } from './presence-table.ts';
import type { Presence } from './presence.ts';

const idOf = (n: number) => peerIdFromPublicKeyBytes(ed25519.getPublicKey(new Uint8Array(32).fill(n)));
const RELAY = idOf(1);
const OTHER_RELAY = idOf(2);
const SENDER = idOf(3);
const OUR_RELAY_ADDR = `/dns4/relay.example/tcp/443/wss/p2p/${RELAY}`;
const relays = new Map([[RELAY, OUR_RELAY_ADDR]]);
const host = (multiaddrs: string[] = []): Presence => ({ role: 'host', label: 'h', multiaddrs });

describe('presence table', () => {
  it('caps the table: newcomers are refused while listed peers keep refreshing', () => {
    let now = 0;
    const table = new PresenceTable(2, 30_000, () => now);
    expect(table.upsert('a', host())).toBeDefined();
    expect(table.upsert('b', host())).toBeDefined();
    expect(table.upsert('c', host())).toBeUndefined();
    now = 20_000;
    expect(table.upsert('a', host())?.lastSeenMs).toBe(20_000);
    expect(table.upsert('c', host())).toBeUndefined();
    expect(table.size).toBe(2);
  });

  it('expires entries not refreshed within the TTL, making room again', () => {
    let now = 0;
    const table = new PresenceTable(2, 30_000, () => now);
    table.upsert('a', host());
    table.upsert('b', host());
    now = 20_000;
    table.upsert('a', host());
    now = 30_000;
    expect(table.expire()).toEqual(['b']);
    expect(table.upsert('c', host())).toBeDefined();
    expect(table.values().map((e) => e.peerId)).toEqual(['a', 'c']);
  });

  it('300 Sybil presences at once: 256 entries (the default cap), the rest refused', () => {
    const table = new PresenceTable(DEFAULT_NETWORK_CONFIG.maxPresencePeers, DEFAULT_NETWORK_CONFIG.presenceTtlMs);
    let admitted = 0;
    for (let i = 0; i < 300; i++) if (table.upsert(`sybil-${i}`, host())) admitted++;
    expect(admitted).toBe(256);
    expect(table.size).toBe(256);
  });
});

describe('discovery dial address', () => {
  const circuit = (relay: string, target: string, prefix = '/ip4/192.168.1.20/tcp/22/ws') => `${prefix}/p2p/${relay}/p2p-circuit/webrtc/p2p/${target}`;

  it("is our own address of the sender's relay, never the host and port the sender wrote", () => {
    expect(webrtcDialAddr(host([circuit(RELAY, SENDER)]), SENDER, relays)).toBe(`${OUR_RELAY_ADDR}/p2p-circuit/webrtc/p2p/${SENDER}`);
  });

  it('is nothing for a relay we are not configured with, another target, or a plain address', () => {
    expect(webrtcDialAddr(host([circuit(OTHER_RELAY, SENDER)]), SENDER, relays)).toBeUndefined();
    expect(webrtcDialAddr(host([circuit(RELAY, idOf(4))]), SENDER, relays)).toBeUndefined();
    expect(webrtcDialAddr(host([`/ip4/192.168.1.20/tcp/22/ws/p2p/${SENDER}`]), SENDER, relays)).toBeUndefined();
    expect(webrtcDialAddr(host([`/ip4/1.2.3.4/tcp/1/ws/p2p/${RELAY}/p2p-circuit/p2p/${SENDER}`]), SENDER, relays)).toBeUndefined();
    expect(webrtcDialAddr(host(['/garbage']), SENDER, relays)).toBeUndefined();
  });
});

describe('discovery dial budget', () => {
  it('allows the burst, then the per-minute rate', () => {
    let now = 0;
    const bucket = new TokenBucket(8, 30, () => now);
    let granted = 0;
    for (let i = 0; i < 300; i++) if (bucket.take()) granted++;
    expect(granted).toBe(8);
    now = 60_000;
    granted = 0;
    for (let i = 0; i < 300; i++) if (bucket.take()) granted++;
    expect(granted).toBe(8); // 30 refilled, capped at the burst of 8
    now = 62_000;
    expect(bucket.take()).toBe(true); // 2 s at 30/min = 1 token
    expect(bucket.take()).toBe(false);
  });

  it('300 Sybil presences over a minute cause at most 8 + 30 dials (defaults)', () => {
    let now = 0;
    const bucket = new TokenBucket(DEFAULT_NETWORK_CONFIG.discoveryDialBurst, DEFAULT_NETWORK_CONFIG.discoveryDialsPerMinute, () => now);
    let dials = 0;
    for (let i = 0; i < 300; i++) {
      now = i * 200;
      if (bucket.take()) dials++;
    }
    expect(dials).toBeLessThanOrEqual(8 + 30);
    expect(dials).toBeGreaterThanOrEqual(30);
  });

  it('rejects nonsensical limits with a typed error', () => {
    expect(() => new TokenBucket(0, 30)).toThrow(RangeError);
    expect(() => new PresenceTable(0, 1)).toThrow(RangeError);
  });
});
