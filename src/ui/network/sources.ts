/**
 * Where the browser node gets its identity and relays. Both are swappable functions so the wallet
 * UI can later hand over the unlocked wallet's identity (`setIdentitySource`) without the network
 * code knowing about wallets beyond the NodeIdentity type.
 */
import { identityFromEd25519Seed } from '../../wallet/identity.ts';
import type { NodeIdentity } from '../../node/index.ts';
import { networkFromJson, type NetworkInfo } from '../../app/network-json.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { getNetworkSettings } from '../settings/store.ts';

export type IdentitySource = () => Promise<NodeIdentity | undefined>;

/**
 * Default until the wallet UI provides one: `?seed=<64 hex>` (tests, demos) or an ephemeral key
 * made for this tab. An ephemeral identity can gossip but owns nothing.
 */
export const urlOrEphemeralIdentity: IdentitySource = async () => {
  const hex = new URLSearchParams(location.search).get('seed');
  if (hex && /^[0-9a-fA-F]{64}$/.test(hex)) {
    return identityFromEd25519Seed(Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16))));
  }
  return identityFromEd25519Seed(crypto.getRandomValues(new Uint8Array(32)));
};

let identitySource: IdentitySource = urlOrEphemeralIdentity;

export function setIdentitySource(source: IdentitySource): void {
  identitySource = source;
}

export function currentIdentitySource(): IdentitySource {
  return identitySource;
}

/** What network.json says (src/app/network-json.ts), with `?relay=` overriding its relays. */
export interface NetworkDiscovery extends NetworkInfo {
  /** Why the file's genesis (or the file) was refused; null when fine or absent. */
  readonly problem: string | null;
}

/**
 * Where the page learns its network: the /network.json written by `sprintnet relay`/`start` (relays
 * and the genesis). Relays: `?relay=<multiaddr>` (repeatable) first, then the bootstrap addresses
 * saved in Settings, then the file's. A missing file is no network (null genesis); a malformed one
 * or an invalid genesis is reported in `problem`.
 */
export async function discoverNetwork(): Promise<NetworkDiscovery> {
  const fromUrl = new URLSearchParams(location.search).getAll('relay').filter(Boolean);
  let info: NetworkInfo = { networkId: null, relays: [], genesis: null };
  let problem: string | null = null;
  try {
    const res = await fetch('/network.json', { cache: 'no-store' });
    // The dev server answers a missing file with the app's HTML: not JSON, and not a problem.
    if (res.ok && (res.headers.get('content-type') ?? '').includes('json')) info = networkFromJson(await res.json());
  } catch (e) {
    problem = e instanceof ProtocolError ? e.message : `network.json could not be read: ${(e as Error).message}`;
  }
  const saved = getNetworkSettings().bootstrap;
  return { ...info, relays: fromUrl.length > 0 ? fromUrl : saved.length > 0 ? [...saved] : info.relays, problem };
}

/** Relays only (see discoverNetwork). */
export async function discoverRelays(): Promise<string[]> {
  return (await discoverNetwork()).relays;
}

/** `?ice=<url>` (repeatable), else the ICE servers saved in Settings; none by default (local network, no STUN reachable). */
export function iceServersFromUrl(): RTCIceServer[] {
  const fromUrl = new URLSearchParams(location.search).getAll('ice').map((urls) => ({ urls }));
  return fromUrl.length > 0 ? fromUrl : getNetworkSettings().iceServers.map((x) => ({ ...x }));
}
