import { useState, type FormEvent } from 'react';
import { Term } from '../help/Term.tsx';
import { formatBootstrap, formatIceServers, parseBootstrap, parseIceServers, SettingsError, useSettingsStore } from './store.ts';

/** Bootstrap addresses and ICE servers, checked line by line before they are saved. */
export function NetworkSettingsForm() {
  const network = useSettingsStore((s) => s.network);
  const [bootstrap, setBootstrap] = useState(() => formatBootstrap(network.bootstrap));
  const [ice, setIce] = useState(() => formatIceServers(network.iceServers));
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    try {
      const next = { bootstrap: parseBootstrap(bootstrap), iceServers: parseIceServers(ice) };
      useSettingsStore.getState().setNetwork(next);
      setBootstrap(formatBootstrap(next.bootstrap));
      setIce(formatIceServers(next.iceServers));
      setMessage({ ok: true, text: 'Saved in this browser.' });
    } catch (err) {
      if (!(err instanceof SettingsError)) throw err;
      setMessage({ ok: false, text: `Not saved: ${err.message}.` });
    }
  };
  return (
    <form onSubmit={onSubmit} aria-labelledby="settings-network-title" data-testid="settings-network">
      <h3 id="settings-network-title">Network (advanced)</h3>
      <p className="muted">
        Most volunteers leave both empty: this site’s own network is used. Fill them in only if a network’s organisers gave you these addresses. A link with{' '}
        <code>?relay=</code> or <code>?ice=</code> overrides them for that visit.
      </p>
      <label className="field">
        <span>
          <Term id="bootstrap">Bootstrap addresses</Term>, one per line
        </span>
        <textarea
          rows={3}
          value={bootstrap}
          onChange={(e) => setBootstrap(e.target.value)}
          placeholder="/dns4/relay.example.org/tcp/443/wss/p2p/12D3KooW…"
          spellCheck={false}
          data-testid="settings-bootstrap"
        />
      </label>
      <label className="field">
        <span>
          <Term id="ice">ICE servers</Term>, one per line: <code>stun:host:port</code> or <code>turn:host:port user password</code>
        </span>
        <textarea
          rows={3}
          value={ice}
          onChange={(e) => setIce(e.target.value)}
          placeholder="stun:stun.example.org:3478"
          spellCheck={false}
          data-testid="settings-ice"
        />
      </label>
      <button type="submit" data-testid="settings-network-save">
        Save network settings
      </button>
      {message && (
        <p className={message.ok ? 'ok' : 'error'} role={message.ok ? 'status' : 'alert'} data-testid="settings-network-message">
          {message.text}
        </p>
      )}
    </form>
  );
}
