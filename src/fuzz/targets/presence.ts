/** The presence payload: presenceCodec.decode and checkPresence (src/node/topics/presence.ts). */
import fc from 'fast-check';
import type { TopicCheckContext } from '../../node/registry.ts';
import { presenceCodec, presenceTopic, type Presence } from '../../node/topics/presence.ts';
import { hex, mutatedBytes, type FuzzTarget } from '../harness.ts';
import { key, multiaddrText } from './samples.ts';
import { at } from '../../sprint/indexing.ts';

interface Input {
  bytes: Uint8Array;
  sender: number;
}

export const presenceTarget: FuzzTarget<Input> = {
  name: 'presence',
  covers: "presenceCodec.decode and the presence topic's checks (multiaddr text bound to the sender, relay role)",
  async setup() {
    const keys = [5, 6, 7].map(key);
    const peerIds = keys.map((k) => k.peerId);
    const relayPeerIds = new Set([at(peerIds, 0, 'peer id')]);
    const presence = fc.record({
      role: fc.constantFrom<Presence['role']>('browser', 'host', 'relay'),
      label: fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 70 })),
      multiaddrs: fc.array(multiaddrText(peerIds), { maxLength: 16 }),
    });
    const samples = [
      presenceCodec.encode({
        role: 'host',
        label: 'host@box',
        multiaddrs: [`/ip4/127.0.0.1/tcp/9090/ws/p2p/${peerIds[0]}/p2p-circuit/webrtc/p2p/${peerIds[1]}`],
      }),
      presenceCodec.encode({ role: 'relay', label: 'relay', multiaddrs: [`/ip4/127.0.0.1/tcp/9090/ws/p2p/${peerIds[0]}`] }),
      presenceCodec.encode({ role: 'browser', label: 'chromium ✓ 日本', multiaddrs: [] }),
      presenceCodec.encode({ role: 'browser', label: 'x'.repeat(64), multiaddrs: new Array(16).fill(`/p2p/${peerIds[2]}`) }),
    ];
    const arbitrary = fc.record({
      bytes: fc.oneof(
        { weight: 3, arbitrary: presence.map((p) => presenceCodec.encode(p)) },
        { weight: 5, arbitrary: mutatedBytes(samples, { maxRandomLength: 300 }) },
        {
          weight: 2,
          arbitrary: fc.tuple(presence, fc.nat(), fc.nat({ max: 0xffffffff })).map(([p, at, v]) => {
            // A lying length field inside an otherwise valid encoding.
            const b = presenceCodec.encode(p);
            if (b.length >= 5) new DataView(b.buffer).setUint32(at % (b.length - 3), v, true);
            return b;
          }),
        },
      ),
      sender: fc.nat({ max: keys.length - 1 }),
    });
    // Whatever checks the topic declares (the gossip layer runs them after the signature).
    const spec = presenceTopic as {
      check?: (v: Presence, sender: Uint8Array, c: TopicCheckContext) => string | undefined;
      authorize?: (v: Presence, c: TopicCheckContext) => string | undefined;
    };
    return {
      arbitrary,
      run(input) {
        const value = presenceCodec.decode(input.bytes);
        const context: TopicCheckContext = { senderPeerId: at(peerIds, input.sender, 'peer id'), relayPeerIds };
        const problem = spec.check?.(value, at(keys, input.sender, 'key').pub, context) ?? spec.authorize?.(value, context);
        if (problem === undefined) return 'accepted';
        const why = /unparseable/.test(problem) ? 'unparseable multiaddr' : /does not end/.test(problem) ? 'multiaddr not /p2p/<sender>' : problem.slice(0, 40);
        return { rejected: `check: ${why}` };
      },
      describe: (input) => `sender=${input.sender} ${hex(input.bytes)}`,
    };
  },
};
