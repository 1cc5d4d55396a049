/**
 * Where the browser node gets its identity and relays. Both are swappable functions so the wallet
 * UI can later hand over the unlocked wallet's identity (`setIdentitySource`) without the network
 * code knowing about wallets beyond the NodeIdentity type.
 */
import { identityFromEd25519Seed } from '../../wallet/identity.ts';
import type { NodeIdentity } from '../../node/index.ts';

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

/** `?relay=<multiaddr>` (repeatable) wins; otherwise the /network.json written by `sprintnet relay`/`start`. */
export async function discoverRelays(): Promise<string[]> {
  const fromUrl = new URLSearchParams(location.search).getAll('relay').filter(Boolean);
  if (fromUrl.length > 0) return fromUrl;
  try {
    const res = await fetch('/network.json', { cache: 'no-store' });
    if (!res.ok) return [];
    const json = (await res.json()) as { relays?: unknown };
    return Array.isArray(json.relays) ? json.relays.filter((r): r is string => typeof r === 'string') : [];
  } catch {
    return [];
  }
}

/** `?ice=<url>` (repeatable) adds ICE servers; none by default (local network, no STUN reachable). */
export function iceServersFromUrl(): RTCIceServer[] {
  return new URLSearchParams(location.search).getAll('ice').map((urls) => ({ urls }));
}
