/**
 * Wallet for the headless host (`bin/sprintnet host`), Node only. Sources, first match wins:
 *   1. `keystorePath` (or env SPRINTNET_KEYSTORE) with `passphrase` (or env SPRINTNET_PASSPHRASE)
 *   2. env SPRINTNET_MNEMONIC
 * A keystore file without a passphrase is an error rather than a silent fall-through, so a
 * host never runs under a different identity than its operator configured.
 */
import { readFile } from 'node:fs/promises';
import { WalletError } from './errors.ts';
import { decryptKeystore } from './keystore.ts';
import { identityFromMnemonic, type WalletIdentity } from './wallet-identity.ts';

export interface HeadlessWalletOptions {
  keystorePath?: string;
  passphrase?: string;
  env: Record<string, string | undefined>;
  networkId?: string;
}

export interface HeadlessWallet {
  identity: WalletIdentity;
  source: 'keystore' | 'mnemonic';
}

export async function loadHeadlessWallet(opts: HeadlessWalletOptions): Promise<HeadlessWallet> {
  const { env, networkId } = opts;
  const keystorePath = opts.keystorePath ?? env.SPRINTNET_KEYSTORE;
  if (keystorePath) {
    const passphrase = opts.passphrase ?? env.SPRINTNET_PASSPHRASE;
    if (!passphrase) throw new WalletError('WRONG_PASSPHRASE', 'a keystore file needs a passphrase (SPRINTNET_PASSPHRASE)');
    let json: string;
    try {
      json = await readFile(keystorePath, 'utf8');
    } catch (cause) {
      throw new WalletError('NO_WALLET', `cannot read keystore file ${keystorePath}`, { cause });
    }
    return { identity: await decryptKeystore(json, passphrase, { networkId }), source: 'keystore' };
  }
  const mnemonic = env.SPRINTNET_MNEMONIC;
  if (mnemonic) return { identity: await identityFromMnemonic(mnemonic, { networkId }), source: 'mnemonic' };
  throw new WalletError('NO_WALLET', 'no wallet: pass a keystore file or set SPRINTNET_MNEMONIC');
}
