/** Peer-to-peer status view: relay, own peer id, connections by transport, peers, recent gossip. */
import { useEffect } from 'react';
import { useNetworkStore } from './store.ts';
import { installDebugHandle } from './debug.ts';

const short = (id: string) => (id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id);

export function NetworkPanel() {
  const s = useNetworkStore();

  useEffect(() => {
    installDebugHandle();
    void useNetworkStore.getState().start();
  }, []);

  return (
    <section className="panel" aria-labelledby="network-title">
      <h2 id="network-title">Network</h2>
      <dl className="network-status">
        <dt>Status</dt>
        <dd data-testid="network-status">{s.status}{s.error ? `: ${s.error}` : ''}</dd>
        <dt>Relay</dt>
        <dd data-testid="network-relay-state">{s.relays.length === 0 ? 'none configured' : s.relayState}</dd>
        <dt>Peer id</dt>
        <dd data-testid="network-peer-id" title={s.peerId}>{s.peerId ?? '—'}</dd>
        <dt>Rejected messages</dt>
        <dd data-testid="network-rejected">{s.rejected}</dd>
      </dl>

      <h3>Connections</h3>
      {s.connections.length === 0 ? (
        <p className="muted">Not connected.</p>
      ) : (
        <ul data-testid="network-connections">
          {s.connections.map((c) => (
            <li
              key={`${c.peerId}-${c.remoteAddr}`}
              data-testid="network-connection"
              data-peer={c.peerId}
              data-transport={c.transport}
              data-addr={c.remoteAddr}
            >
              {short(c.peerId)} · {c.transport}
              {c.limited ? ' (limited)' : ''}
            </li>
          ))}
        </ul>
      )}

      <h3>Peers</h3>
      <ul data-testid="network-peers">
        {Object.values(s.peers).map((p) => (
          <li key={p.peerId} data-testid="network-peer" data-peer={p.peerId} data-received={p.received}>
            {short(p.peerId)} · {p.role} · {p.label} · {p.received} msgs
          </li>
        ))}
      </ul>

      <h3>Recent gossip</h3>
      <ol data-testid="network-gossip">
        {s.gossip.map((g) => (
          <li key={g.id} data-from={g.from}>
            {new Date(g.atMs).toLocaleTimeString()} {g.topic} from {short(g.from)}
          </li>
        ))}
      </ol>
    </section>
  );
}
