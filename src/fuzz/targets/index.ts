/** Every decoder and validator that reads bytes or text from outside: one fuzz target each. */
import type { FuzzTarget } from '../harness.ts';
import { addressTarget } from './address.ts';
import { codecTarget } from './codec.ts';
import { envelopeTarget } from './envelope.ts';
import { framesTarget } from './frames.ts';
import { keystoreTarget } from './keystore.ts';
import { presenceTarget } from './presence.ts';
import { protocolTarget } from './protocol.ts';
import { rpcServerTarget } from './rpc-server.ts';
import { sealedBoxTarget } from './sealed-box.ts';

export const TARGETS: FuzzTarget<never>[] = [
  codecTarget,
  envelopeTarget,
  presenceTarget,
  sealedBoxTarget,
  framesTarget,
  addressTarget,
  keystoreTarget,
  rpcServerTarget,
  protocolTarget,
] as unknown as FuzzTarget<never>[];
