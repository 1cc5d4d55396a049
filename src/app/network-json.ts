/**
 * `network.json`: how a peer learns the network it joins. `sprintnet relay` / `sprintnet start`
 * write it (public/network.json, served with the app); the browser fetches it, and `sprintnet host
 * --genesis` accepts it as well as a bare genesis file. Fields:
 *
 *   { "networkId": "sprintnet-local", "relays": ["/ip4/…/ws/p2p/…"], "genesis": GenesisJson }
 *
 * `genesis` (docs/protocol.md §3) is optional: without it there is no Sprint protocol to take part
 * in, and peers say so instead of running anything. A genesis whose network id differs from the
 * file's is refused: the relay forwards only its own network's topics.
 */
import { ProtocolError } from '../protocol/errors.ts';
import { genesisFromJson, type Genesis } from '../protocol/genesis.ts';

export interface NetworkInfo {
  readonly networkId: string | null;
  readonly relays: string[];
  readonly genesis: Genesis | null;
}

const bad = (why: string): never => {
  throw new ProtocolError('BAD_GENESIS', `network.json: ${why}`);
};

/** Parses a network.json value; typed ProtocolError (BAD_GENESIS) for anything malformed. */
export function networkFromJson(value: unknown): NetworkInfo {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('not an object');
  const v = value as Record<string, unknown>;
  if (v.networkId !== undefined && typeof v.networkId !== 'string') bad('networkId must be a string');
  if (v.relays !== undefined && !(Array.isArray(v.relays) && v.relays.every((r) => typeof r === 'string'))) bad('relays must be an array of strings');
  const networkId = (v.networkId as string | undefined) ?? null;
  const genesis = v.genesis === undefined || v.genesis === null ? null : genesisFromJson(v.genesis);
  if (genesis && networkId !== null && genesis.networkId !== networkId) {
    bad(`genesis is for network '${genesis.networkId}', the relays serve '${networkId}'`);
  }
  return { networkId: networkId ?? genesis?.networkId ?? null, relays: (v.relays as string[] | undefined) ?? [], genesis };
}

/** A genesis from either a genesis JSON file or a network.json that carries one. */
export function genesisFromFileJson(value: unknown): Genesis {
  if (typeof value === 'object' && value !== null && ('relays' in value || 'genesis' in value)) {
    const g = networkFromJson(value).genesis;
    if (!g) bad('it carries no genesis (start the relay with one, or pass a genesis file)');
    return g!;
  }
  return genesisFromJson(value);
}
