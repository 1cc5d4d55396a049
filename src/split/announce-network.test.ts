/** Finding a volunteer over two real libp2p nodes: its announcement crosses gossip (validated), the user lists it, probes it and ranks it. */
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SprintnetNode } from '../node/node.ts';
import { LOOPBACK_WS, waitFor } from '../node/test-helpers.ts';
import { defaultRegistry } from '../node/topics/index.ts';
import { identityFromEd25519Seed } from '../wallet/identity.ts';
import { announceVolunteer, listenForVolunteers, NO_ANNOUNCED_GENESIS, VolunteerDirectory } from './announce.ts';
import { seedSigner } from './local.ts';
import { probeVolunteer } from './router.ts';
import { rankVolunteers } from './router-rank.ts';
import { NETWORK, testRig, type TestRig } from './test-support.ts';
import { NodeTransport, serveSplit } from './transport.ts';
import { SplitVolunteer } from './volunteer.ts';

let rig: TestRig;
let volunteerNode: SprintnetNode;
let userNode: SprintnetNode;

async function node(seedByte: number): Promise<SprintnetNode> {
  const identity = await identityFromEd25519Seed(new Uint8Array(32).fill(seedByte));
  const n = await SprintnetNode.create({ identity, role: 'host', registry: defaultRegistry(), config: { presenceIntervalMs: 500, listen: [LOOPBACK_WS] } });
  await n.start();
  return n;
}

beforeAll(async () => {
  rig = await testRig();
  [volunteerNode, userNode] = await Promise.all([node(62), node(63)]);
  await userNode.libp2p.dial(multiaddr(volunteerNode.multiaddrs().find((m) => m.includes('/ws/'))!));
});

afterAll(async () => {
  await Promise.all([volunteerNode, userNode].map((n) => n?.stop()));
});

describe('finding a volunteer over the network', () => {
  it('the user hears the announcement, lists the volunteer for its model and k, and probes it', async () => {
    const volunteer = new SplitVolunteer({
      model: rig.model,
      lowestK: 2,
      modelHash: rig.hash,
      normWeight: rig.norm,
      signer: seedSigner(new Uint8Array(32).fill(62)),
      networkId: NETWORK,
    });
    await serveSplit(volunteerNode, volunteer);
    const directory = new VolunteerDirectory();
    listenForVolunteers(userNode, directory);
    const announcing = announceVolunteer(
      volunteerNode,
      { modelHash: rig.hash, genesis: NO_ANNOUNCED_GENESIS, lowestK: 2, highestK: 7, numLayers: 8, decodeTokensPerSecond: 42, label: 'test volunteer' },
      300,
    );
    try {
      await waitFor(() => directory.size > 0, 15_000, 'the announcement');
      const listed = directory.forModel(rig.hash, 4);
      expect(listed.map((v) => v.peerId)).toEqual([volunteerNode.peerId]);
      expect(listed[0]!.announcement).toMatchObject({ lowestK: 2, highestK: 7, decodeTokensPerSecond: 42, label: 'test volunteer' });
      expect(directory.forModel(rig.hash, 1)).toEqual([]); // it does not accept k = 1
      expect(directory.forModel(new Uint8Array(32), 4)).toEqual([]); // nor another model
      const probe = await probeVolunteer(new NodeTransport(userNode, volunteerNode.peerId, 10_000), {
        modelHash: rig.hash,
        k: 4,
        hiddenSize: rig.model.config.hiddenSize,
        steps: 2,
      });
      expect(probe.stepMs).toBeGreaterThan(0);
      expect(volunteer.openSessions).toBe(0); // the probe's session is closed
      const [ranked] = rankVolunteers([{ peerId: volunteerNode.peerId, standing: undefined, probe }], 1_000);
      expect(ranked).toMatchObject({ tier: 'unweighted', stepMs: probe.stepMs });
    } finally {
      announcing.stop();
    }
  });
});
