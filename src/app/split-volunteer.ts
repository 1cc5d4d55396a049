/**
 * A browser page as a split-inference volunteer: it serves sessions of layers [k, L) of the model
 * loaded in its LLM Worker over the page's node (split-infer, sealed end to end), signs receipts
 * with the wallet key the node runs under, and publishes a user's submitted proof to the ledger as
 * an `inference` message gossiped on `inference-proof`, where weighted hosts holding the model
 * judge it (docs/protocol.md §9a). Closed sessions' evidence goes only to keys the caller says
 * hold weight. While it serves it announces the model hash, the split layers it accepts and its
 * measured decode rate on `split-volunteer`, so users list it (src/split/announce.ts).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { SprintnetNode } from '../node/node.ts';
import { walletSigner, type SigningKeys } from '../protocol/crypto.ts';
import { genesisHash, type Genesis } from '../protocol/genesis.ts';
import { signInference } from '../protocol/inference-check.ts';
import { decodeAnswer, decodeRequest } from '../split/codec.ts';
import { announceVolunteer, NO_ANNOUNCED_GENESIS } from '../split/announce.ts';
import { MAX_SESSIONS, SPLIT_RPC_NAME, SPLIT_SESSION_RPC_NAME } from '../split/constants.ts';
import { SplitError } from '../split/errors.ts';
import { PING_RPC_NAME, PingServer, servePing, stepMsFromRate } from '../split/ping.ts';
import { decodeProof } from '../split/proof.ts';
import { peerPublicKey, serveSplit } from '../split/transport.ts';
import { SplitVolunteer } from '../split/volunteer.ts';
import { ledgerWeighs } from './ledger-follower.ts';
import { nodeTransport } from './transport.ts';
import { decodeRateFor } from './split-route.ts';
import { splitModelFor } from './split-user.ts';
import type { RangeWorker } from './split-model.ts';

export interface VolunteerStats {
  readonly sessionsOpened: number;
  /** Sessions closed with a signed receipt. */
  readonly sessionsServed: number;
  readonly stepsServed: number;
  readonly proofsPublished: number;
  readonly lastNote: string | null;
}

export interface PageVolunteer {
  readonly modelHash: string;
  /** The decode rate it announces: the whole model on this device, tokens/s (0 if the measurement failed). */
  readonly decodeTokensPerSecond: number;
  stats(): VolunteerStats;
  stop(): Promise<void>;
}

export async function startPageVolunteer(o: {
  readonly worker: RangeWorker;
  readonly node: SprintnetNode;
  /** The unlocked wallet: the node's key, which signs receipts and the ledger message. */
  readonly identity: SigningKeys;
  readonly networkId: string;
  /** The network's genesis: without one, submitted proofs cannot be published (the user is told). */
  readonly genesis: Genesis | null;
  /** May this key fetch a closed session's evidence (h_k)? Weighted validators only. */
  readonly mayFetchEvidence: (key: string) => boolean;
  /** Also hand the published message to this page's own ledger (the Sprint runtime's host), if it runs. */
  readonly receiveOwn?: (bytes: Uint8Array) => void;
  readonly onChange?: (s: VolunteerStats) => void;
}): Promise<PageVolunteer> {
  if (bytesToHex(peerPublicKey(o.node.peerId)) !== bytesToHex(o.identity.publicKey)) {
    throw new SplitError('BAD_ARGUMENT', 'the network node is not running with your wallet key yet: try again in a moment');
  }
  const m = await splitModelFor(o.worker, true);
  let stats: VolunteerStats = { sessionsOpened: 0, sessionsServed: 0, stepsServed: 0, proofsPublished: 0, lastNote: null };
  const bump = (patch: Partial<VolunteerStats>) => {
    stats = { ...stats, ...patch };
    o.onChange?.(stats);
  };
  const signer = walletSigner(o.identity);
  const transport = nodeTransport(o.node, o.genesis);
  /** The handlers this start registered: a start that fails half-way lets go of them and of the genesis's topics, and of nothing it did not take. */
  const registered: string[] = [];
  const release = (): Promise<void> => {
    transport.close();
    return Promise.allSettled(registered.splice(0).map((name) => o.node.unhandle(name))).then(() => undefined);
  };
  try {
    return await serveVolunteer();
  } catch (err) {
    await release();
    throw err;
  }

  async function serveVolunteer(): Promise<PageVolunteer> {
    const volunteer = new SplitVolunteer({
      model: m.model,
      lowestK: 1,
      modelHash: m.hash,
      normWeight: m.normWeight,
      // A keyed session's close travels sealed under its session key, so a served session is counted where its receipt is signed.
      // Receipts are signed by the same wallet key (and the same typed signature) as the ledger message.
      signer: {
        publicKey: signer.publicKey,
        sign: async (domain, payload) => {
          const signature = await signer.sign(domain, payload);
          bump({ sessionsServed: stats.sessionsServed + 1 });
          return signature;
        },
      },
      networkId: o.networkId,
      // Receipts name the genesis this page publishes to (none without one: no ledger credits them).
      genesis: o.genesis ? genesisHash(o.genesis) : undefined,
      mayFetchEvidence: (peer) => (o.genesis ? ledgerWeighs(o.genesis, bytesToHex(peer), o.mayFetchEvidence) : o.mayFetchEvidence(bytesToHex(peer))),
      onProof: async (proof) => {
        if (!o.genesis) throw new SplitError('FORBIDDEN', 'this page knows no network genesis, so it cannot publish the proof');
        const message = await signInference(signer, o.genesis, proof, Date.now());
        o.receiveOwn?.(message.bytes);
        await transport.publish('inference-proof', message.bytes);
        const note = `published for epoch ${message.epoch} (${decodeProof(proof).receipt.flops} FLOPs)`;
        bump({ proofsPublished: stats.proofsPublished + 1, lastNote: note });
        return `published for epoch ${message.epoch}`;
      },
    });
    // Counts what was served: opens from the (always per-call) open requests and their answers, steps
    // from the volunteer's own count (a keyed session's steps arrive as frames this wrapper cannot read).
    const countSteps = (answer: Uint8Array): Uint8Array => {
      if (volunteer.stepsServed !== stats.stepsServed) bump({ stepsServed: volunteer.stepsServed });
      return answer;
    };
    await serveSplit(o.node, {
      publicKey: volunteer.publicKey,
      async handle(request, peer, context) {
        const answer = await volunteer.handle(request, peer, context);
        try {
          if (decodeRequest(request).kind === 'open' && decodeAnswer(answer).kind === 'opened') bump({ sessionsOpened: stats.sessionsOpened + 1 });
        } catch {
          // A malformed request was answered with an error already.
        }
        return countSteps(answer);
      },
      handleSession: async (frame, peer) => countSteps(await volunteer.handleSession(frame, peer)),
    });
    registered.push(SPLIT_RPC_NAME, SPLIT_SESSION_RPC_NAME);
    const rate = await decodeRateFor(m).catch(() => 0);
    const L = m.model.config.numLayers;
    // Pings (split/ping.ts) are answered beside the sessions and counted in none of them.
    await servePing(
      o.node,
      new PingServer({
        signer,
        networkId: o.networkId,
        modelHash: m.hash,
        lowestK: 1,
        highestK: L - 1,
        load: () => ({ openSessions: volunteer.openSessions, sessionLimit: MAX_SESSIONS }),
        stepMs: stepMsFromRate(rate, L),
      }),
    );
    registered.push(PING_RPC_NAME);
    const announcing = announceVolunteer(
      o.node,
      {
        modelHash: m.hash,
        // The genesis its receipts name: a user that follows another ranks it last (it would sign no proof).
        genesis: o.genesis ? genesisHash(o.genesis) : NO_ANNOUNCED_GENESIS,
        lowestK: 1,
        highestK: L - 1,
        numLayers: L,
        decodeTokensPerSecond: Number.isFinite(rate) ? Math.min(rate, 1e6) : 0,
        label: 'browser',
      },
      o.node.config.presenceIntervalMs,
    );
    return {
      modelHash: bytesToHex(m.hash),
      decodeTokensPerSecond: rate,
      stats: () => stats,
      stop: () => {
        announcing.stop();
        // Lets go of the genesis's topics (the page's Sprint runtime or ledger follower may still hold them).
        return release();
      },
    };
  }
}
