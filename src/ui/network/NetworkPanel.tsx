/**
 * The network and the ledger in plain words: whether this browser is connected (honestly: only a
 * live connection to the relay or a peer counts), its one network id, the peers with how they are
 * reached and their weight and reputation, then the ledger views (LedgerParts.tsx) and, folded
 * away, the raw connections and recent messages.
 */
import { useEffect, useState } from 'react';
import { keyOfPeer } from '../../app/transport.ts';
import type { ConnectionInfo } from '../../node/index.ts';
import { Term } from '../help/Term.tsx';
import { useWalletStore } from '../wallet/store.ts';
import { EpochHistory, InferenceReputation, LedgerSource, MyActivity, WeightsTable } from './LedgerParts.tsx';
import { useLedgerStore } from './ledger-store.ts';
import { useNetworkStore, type NetworkState } from './store.ts';
import { installDebugHandle } from './debug.ts';
import '../sprint/sprint.css';

const short = (id: string) => (id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id);

function statusWords(s: Pick<NetworkState, 'status' | 'error' | 'relays' | 'relayState'>): string {
  switch (s.status) {
    case 'online':
      return s.relayState === 'connected' ? 'Connected to the network through its relay.' : 'Connected to other computers of the network.';
    case 'offline':
      return s.relays.length === 0
        ? 'Not connected to the network: no relay is configured and no other computer is connected.'
        : `Not connected to the network: the relay cannot be reached (${s.relayState === 'connecting' ? 'trying now' : 'trying again soon'}).`;
    case 'starting':
      return 'Connecting…';
    case 'error':
      return `Not connected to the network: ${s.error ?? 'the connection failed'}.`;
    default:
      return 'Not connected to the network.';
  }
}

/** "direct", "through relay", or no connection of our own (messages still reach it through the relay's gossip). */
export function connectionWords(c: ConnectionInfo | undefined, role: string): string {
  if (role === 'relay') return c ? 'the relay' : 'the relay (not connected)';
  if (!c) return 'not connected directly';
  return c.limited || c.transport === 'relayed' ? 'through relay' : 'direct';
}

/** This browser's one network id, and whether it is the wallet's key or a temporary one. */
function OwnId() {
  const peerId = useNetworkStore((s) => s.peerId);
  const walletPeerId = useWalletStore((s) => s.info?.peerId);
  const walletStatus = useWalletStore((s) => s.status);
  const isWallet = peerId !== undefined && peerId === walletPeerId;
  return (
    <>
      <dt>
        This browser’s <Term id="peer-id">network id</Term>
      </dt>
      <dd>
        <span className="mono" data-testid="network-peer-id" data-wallet={isWallet} title={peerId}>
          {peerId ?? '—'}
        </span>
        <span className="muted network-id-note" data-testid="network-id-note">
          {peerId === undefined
            ? 'None while not connected.'
            : isWallet
              ? 'Your wallet’s key: other computers know your finds and weight under it.'
              : walletStatus === 'locked'
                ? 'A temporary id while your wallet is locked. Your finds and weight still belong to your wallet; unlock it and this browser joins under your wallet’s key.'
                : 'A temporary id: this browser has no unlocked wallet.'}
        </span>
      </dd>
    </>
  );
}

/** `active`: the screen is shown (every screen stays mounted, hidden, so mounting says nothing). */
export function NetworkPanel({ active }: { active: boolean }) {
  const s = useNetworkStore();
  const ledger = useLedgerStore((st) => st.runtime?.ledger);

  useEffect(() => {
    installDebugHandle();
    void useNetworkStore.getState().start();
  }, []);
  const [shown, setShown] = useState(active);
  if (active && !shown) setShown(true);
  useEffect(() => {
    // Once the screen was shown the page follows the ledger, also when it does not take part, and
    // keeps it fresh across navigation (a handover to Contribute needs the follower running). Not
    // from page load: that would sync (and store) the ledger for a visitor who never looks.
    if (!shown) return;
    useLedgerStore.getState().need('network-screen', true);
    return () => useLedgerStore.getState().need('network-screen', false);
  }, [shown]);

  const rowOf = (peerId: string) => {
    const key = keyOfPeer(peerId);
    return key ? ledger?.rows.find((r) => r.publicKey === key) : undefined;
  };

  return (
    <>
      <section className="panel" aria-labelledby="network-title">
        <h2 id="network-title">Network</h2>
        <p role="status" aria-live="polite" data-testid="network-status" data-status={s.status} className={s.status === 'online' ? 'ok' : undefined}>
          {statusWords(s)}
        </p>
        <dl className="network-status">
          <dt>
            <Term id="relay">Relay</Term>
          </dt>
          <dd data-testid="network-relay-state" data-state={s.relays.length === 0 ? 'none' : s.relayState}>
            {s.relays.length === 0 ? 'none configured' : s.relayState}
          </dd>
          <OwnId />
          <dt>Messages refused</dt>
          <dd data-testid="network-rejected">{s.rejected}</dd>
        </dl>

        <h3>
          <Term id="peer">Peers</Term>
        </h3>
        {Object.keys(s.peers).length === 0 ? (
          <p className="muted">No other computer seen yet.</p>
        ) : (
          <div className="table-scroll" tabIndex={0} role="region" aria-label="Peers">
            <table className="sprint-found" data-testid="network-peers">
              <thead>
                <tr>
                  <th scope="col">Id</th>
                  <th scope="col">What</th>
                  <th scope="col">Connection</th>
                  <th scope="col">
                    <Term id="weight">Weight</Term>
                  </th>
                  <th scope="col">
                    <Term id="reputation">Reputation</Term>
                  </th>
                </tr>
              </thead>
              <tbody>
                {Object.values(s.peers).map((p) => {
                  const c = s.connections.find((x) => x.peerId === p.peerId);
                  const row = rowOf(p.peerId);
                  return (
                    <tr key={p.peerId} data-testid="network-peer" data-peer={p.peerId} data-received={p.received} data-connection={connectionWords(c, p.role)}>
                      <td className="mono" title={p.peerId}>
                        {short(p.peerId)}
                      </td>
                      <td>{p.role === 'relay' ? 'relay' : p.label}</td>
                      <td>{connectionWords(c, p.role)}</td>
                      <td>{row ? row.weight : '—'}</td>
                      <td>{row ? row.reputation : '—'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}

        <details>
          <summary>Connections and recent messages</summary>
          <ConnectionList connections={s.connections} />
          <ol data-testid="network-gossip">
            {s.gossip.map((g) => (
              <li key={g.id} data-from={g.from}>
                {new Date(g.atMs).toLocaleTimeString()} {g.topic} from {short(g.from)}
              </li>
            ))}
          </ol>
        </details>
      </section>

      <section className="panel" aria-labelledby="ledger-title">
        <h2 id="ledger-title">Ledger</h2>
        <LedgerSource />
        <WeightsTable />
        <EpochHistory />
        <InferenceReputation />
        <h3>What this browser did</h3>
        <MyActivity />
      </section>
    </>
  );
}

/** Every open connection, one row each: a peer reached both ways shares one remote address, so rows are keyed by connection id. */
export function ConnectionList({ connections }: { connections: readonly ConnectionInfo[] }) {
  if (connections.length === 0) return <p className="muted">No connection.</p>;
  return (
    <ul data-testid="network-connections">
      {connections.map((c) => (
        <li key={c.id} data-testid="network-connection" data-peer={c.peerId} data-transport={c.transport} data-addr={c.remoteAddr}>
          {short(c.peerId)} · {TRANSPORT_WORDS[c.transport]}
          {c.limited ? ', limited by the relay' : ''}
          {c.direction === 'inbound' ? ' · they dialled' : ' · we dialled'}
        </li>
      ))}
    </ul>
  );
}

const TRANSPORT_WORDS: Record<ConnectionInfo['transport'], string> = {
  webrtc: 'direct (WebRTC)',
  websockets: 'direct (WebSocket)',
  relayed: 'through relay',
  other: 'other',
};
