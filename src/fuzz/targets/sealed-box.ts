/** The sealed box (src/node/sealed-box.ts): open, responderKeys, requesterKeys on hostile keys and boxes. */
import fc from 'fast-check';
import { open, requesterKeys, responderKeys, seal } from '../../node/sealed-box.ts';
import { mutatedBytes, type FuzzTarget } from '../harness.ts';
import { LOW_ORDER_X25519, SMALL_ORDER_ED25519, key, keyBytes } from './samples.ts';
import { at } from '../../sprint/indexing.ts';

type Input =
  | { op: 'open'; key: number; box: Uint8Array; protocol: string }
  | { op: 'responder'; requester: Uint8Array; ephemeral: Uint8Array; protocol: string }
  | { op: 'requester'; responder: Uint8Array; protocol: string };

const PROTOCOL = '/sprintnet/sprintnet-local/rpc/echo/1';

export const sealedBoxTarget: FuzzTarget<Input> = {
  name: 'sealed-box',
  covers: 'open (mutated boxes), responderKeys (hostile requester and ephemeral keys), requesterKeys (hostile responder keys)',
  async setup() {
    const me = key(8);
    const peers = [9, 10, 11].map(key);
    const sessions = peers.map((p) => requesterKeys(p.seed, me.pub, PROTOCOL));
    const boxes: Uint8Array[] = [];
    sessions.forEach((s, i) => {
      for (const size of [0, 1, 33, 1000]) boxes.push(seal(s.requestKey, new Uint8Array(size).fill(i), PROTOCOL));
    });
    const protocol = fc.constantFrom(PROTOCOL, '', '/sprintnet/other/rpc/echo/1');
    const arbitrary: fc.Arbitrary<Input> = fc.oneof(
      fc.record({
        op: fc.constant('open' as const),
        key: fc.nat({ max: sessions.length - 1 }),
        box: mutatedBytes(boxes, { maxMutations: 2, maxRandomLength: 80 }),
        protocol,
      }),
      fc.record({
        op: fc.constant('responder' as const),
        requester: keyBytes(
          peers.map((p) => p.pub),
          SMALL_ORDER_ED25519,
        ),
        ephemeral: keyBytes(
          sessions.map((s) => s.ephemeralPublic),
          LOW_ORDER_X25519,
        ),
        protocol,
      }),
      fc.record({
        op: fc.constant('requester' as const),
        responder: keyBytes(
          peers.map((p) => p.pub),
          SMALL_ORDER_ED25519,
        ),
        protocol,
      }),
    );
    return {
      arbitrary,
      run(input) {
        switch (input.op) {
          case 'open':
            open(at(sessions, input.key, 'session').requestKey, input.box, input.protocol);
            return 'accepted';
          case 'responder':
            responderKeys(me.seed, input.requester, input.ephemeral, input.protocol);
            return 'accepted';
          case 'requester':
            requesterKeys(me.seed, input.responder, input.protocol);
            return 'accepted';
        }
      },
    };
  },
};
