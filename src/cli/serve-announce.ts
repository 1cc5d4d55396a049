/**
 * The headless volunteer (`host --serve-model DIR`) makes itself findable, as the browser
 * volunteer does (src/app/split-volunteer.ts): it measures its whole-model decode rate the same
 * way (`measureDecodeRate`: 8 single-token forwards after a warm-up), announces the model hash,
 * k ∈ [1, L − 1] and that rate on `split-volunteer` every presence interval, and answers
 * `split-ping` with its load and the step time that rate implies (docs/split-inference.md §9).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { SprintnetNode } from '../node/node.ts';
import { MAX_ANNOUNCED_RATE } from '../node/topics/split-volunteer.ts';
import type { HeldModel } from '../protocol/inference-check.ts';
import { announceVolunteer, NO_ANNOUNCED_GENESIS, type AnnouncementBus } from '../split/announce.ts';
import { MAX_SESSIONS } from '../split/constants.ts';
import { seedSigner } from '../split/local.ts';
import { PING_RPC_NAME, PingServer, servePing, stepMsFromRate } from '../split/ping.ts';
import { measureDecodeRate } from '../split/router.ts';

export interface HeadlessAnnouncement {
  readonly decodeTokensPerSecond: number;
  readonly pings: PingServer;
  stop(): void;
}

export async function announceHeadlessVolunteer(o: {
  readonly node: AnnouncementBus & Pick<SprintnetNode, 'handle' | 'unhandle'> & { readonly config: { readonly presenceIntervalMs: number } };
  readonly held: HeldModel;
  /** The node's wallet seed: pongs are signed with the key its receipts are signed with. */
  readonly ed25519Seed: Uint8Array;
  readonly networkId: string;
  /** Sessions open on its SplitVolunteer now. */
  readonly openSessions: () => number;
  readonly sessionLimit?: number;
  readonly label: string;
  /** The genesis hash its receipts name (the ledger it publishes to); none: NO_ANNOUNCED_GENESIS. */
  readonly genesis?: Uint8Array;
  readonly log: (line: string) => void;
}): Promise<HeadlessAnnouncement> {
  const L = o.held.record.config.numLayers;
  const measured = await measureDecodeRate(o.held.model).catch(() => 0);
  const rate = Number.isFinite(measured) && measured > 0 ? Math.min(measured, MAX_ANNOUNCED_RATE) : 0;
  const pings = new PingServer({
    signer: seedSigner(o.ed25519Seed),
    networkId: o.networkId,
    modelHash: o.held.record.hash,
    lowestK: 1,
    highestK: L - 1,
    load: () => ({ openSessions: o.openSessions(), sessionLimit: o.sessionLimit ?? MAX_SESSIONS }),
    stepMs: stepMsFromRate(rate, L),
  });
  await servePing(o.node as SprintnetNode, pings);
  const announcing = announceVolunteer(
    o.node,
    {
      modelHash: o.held.record.hash,
      genesis: o.genesis ?? NO_ANNOUNCED_GENESIS,
      lowestK: 1,
      highestK: L - 1,
      numLayers: L,
      decodeTokensPerSecond: rate,
      label: o.label,
    },
    o.node.config.presenceIntervalMs,
  );
  o.log(
    `announcing the model ${bytesToHex(o.held.record.hash).slice(0, 16)}… on split-volunteer (k 1–${L - 1}, measured ${rate.toFixed(1)} tok/s for the whole model); answering pings`,
  );
  return {
    decodeTokensPerSecond: rate,
    pings,
    stop: () => {
      announcing.stop();
      void o.node.unhandle(PING_RPC_NAME).catch(() => undefined);
    },
  };
}
