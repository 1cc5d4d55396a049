import { useState } from 'react';
import { useWalletStore } from './store.ts';
import { Term } from '../help/Term.tsx';
import { useStorageStore } from '../storage/store.ts';
import { download, keystoreFileName } from './download.ts';
import { useConsentStore } from '../welcome/consent.ts';
import { screenHref } from '../shell/routes.ts';
import { useSprintStore } from '../sprint/store.ts';

/** sn1qpzry9…x8gf2t: enough to recognise an address, short enough for a phone. */
export const shortAddress = (address: string): string => (address.length > 16 ? `${address.slice(0, 9)}…${address.slice(-6)}` : address);

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  const copy = () =>
    navigator.clipboard.writeText(text).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  return (
    <>
      <button type="button" className="wallet-secondary wallet-copy" onClick={() => void copy()} data-testid="wallet-copy-address">
        Copy address
      </button>
      <span role="status" className="muted" data-testid="wallet-copy-result">
        {copied === true ? 'Copied.' : copied === false ? 'The browser did not allow copying: select the address in the details below.' : ''}
      </span>
    </>
  );
}

/** Address (short, with a copy button) and, in a details view, the full address and peer id: public, shown locked or unlocked. */
export function Identity() {
  const info = useWalletStore((s) => s.info);
  if (!info) return null;
  return (
    <div className="wallet-identity-block">
      <p className="wallet-short">
        <Term id="address">Address</Term>{' '}
        <span className="mono" data-testid="wallet-address-short" title={info.address}>
          {shortAddress(info.address)}
        </span>{' '}
        <CopyButton text={info.address} />
      </p>
      <details className="wallet-details" data-testid="wallet-details">
        <summary>Full address and keys</summary>
        <dl className="wallet-identity">
          <dt>Address</dt>
          <dd className="mono" data-testid="wallet-address">
            {info.address}
          </dd>
          <dt>
            <Term id="peer-id">Peer id</Term>
          </dt>
          <dd className="mono" data-testid="wallet-peer-id">
            {info.peerId}
          </dd>
        </dl>
        <p className="muted">Both are public and safe to share. The private key never leaves this browser unencrypted.</p>
      </details>
    </div>
  );
}

const AUTO_LOCK_CHOICES: ReadonlyArray<[string, number | null]> = [
  ['Never', null],
  ['5 minutes', 5],
  ['15 minutes', 15],
  ['1 hour', 60],
];

/** Whether the browser promised to keep the wallet (navigator.storage.persist()). */
export function PersistenceNote() {
  const persisted = useStorageStore((s) => s.persisted);
  if (persisted === null) return null;
  return persisted ? (
    <p className="muted" data-testid="storage-persisted" data-persisted="true">
      Storage: persistent (the browser will not clear it to free space).
    </p>
  ) : (
    <p className="error" data-testid="storage-persisted" data-persisted="false">
      This browser may clear site data, this wallet included, when space runs low. Keep your recovery phrase and an exported keystore file.
    </p>
  );
}

/** Where a volunteer who just made or unlocked a wallet goes next. */
function NextStep() {
  const agreed = useConsentStore((s) => s.consent !== null);
  const contributing = useSprintStore((s) => s.status === 'preparing' || s.status === 'running' || s.status === 'stopping');
  if (contributing) return null;
  return (
    <p className="wallet-next" data-testid="wallet-next">
      {agreed ? 'Next: start contributing this GPU. ' : 'Next: read what contributing does to this computer and agree, then start. '}
      <a href={screenHref(agreed ? 'contribute' : 'welcome')}>{agreed ? 'Go to Contribute' : 'Go to the welcome'}</a>
    </p>
  );
}

/** State `unlocked`. */
export function WalletView() {
  const info = useWalletStore((s) => s.info);
  const autoLock = useWalletStore((s) => s.autoLockMinutes);
  const { lock, exportKeystore, setAutoLock } = useWalletStore.getState();
  return (
    <div>
      <Identity />
      <NextStep />
      <label className="wallet-field wallet-inline">
        Lock after inactivity
        <select
          value={autoLock === null ? 'off' : String(autoLock)}
          onChange={(e) => setAutoLock(e.target.value === 'off' ? null : Number(e.target.value))}
          data-testid="wallet-autolock"
        >
          {AUTO_LOCK_CHOICES.map(([label, m]) => (
            <option key={label} value={m === null ? 'off' : String(m)}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <div className="wallet-actions">
        <button type="button" onClick={lock} data-testid="wallet-lock">
          Lock
        </button>
        <button
          type="button"
          className="wallet-secondary"
          onClick={() => download(exportKeystore(), keystoreFileName(info?.address))}
          data-testid="wallet-export"
        >
          Export keystore file
        </button>
      </div>
      <p className="muted">The keystore file is encrypted with your passphrase; keep it with your backups.</p>
      <PersistenceNote />
    </div>
  );
}
