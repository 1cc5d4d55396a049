/** The network store's peer list follows the node's presence table: peers that left are dropped. */
import { describe, expect, it } from 'vitest';
import { PresenceTable } from '../../node/topics/presence-table.ts';
import { livePeers, type PeerView } from './store.ts';

const view = (peerId: string, role = 'host'): PeerView => ({ peerId, role, label: role, lastSeenMs: 0, received: 3 });

describe('network store: live peers', () => {
  it('drops a peer once the presence table expires it, and keeps the same object while none expired', () => {
    let now = 0;
    const presence = new PresenceTable(8, 30_000, () => now);
    presence.upsert('a', { role: 'host', label: 'host', multiaddrs: [] });
    presence.upsert('r', { role: 'relay', label: 'relay', multiaddrs: [] });
    now = 20_000;
    presence.upsert('b', { role: 'browser', label: 'browser', multiaddrs: [] });
    const peers = { a: view('a'), r: view('r', 'relay'), b: view('b', 'browser') };
    expect(livePeers(peers, { presence })).toBe(peers);
    now = 31_000; // a and the relay were last heard 31 s ago
    expect(presence.expire().sort()).toEqual(['a', 'r']);
    expect(livePeers(peers, { presence })).toEqual({ b: view('b', 'browser') });
    expect(Object.keys(peers)).toEqual(['a', 'r', 'b']); // not mutated
  });
});
