/**
 * The Sprint protocol's decoders (src/protocol): decodeMessage on mutated messages of every kind,
 * and the sprint-sync request/response codecs (decodeRequest and the response decoders).
 */
import fc from 'fast-check';
import { Verdict, decodeMessage, encodeUnsigned, type Unsigned } from '../../protocol/messages.ts';
import {
  decodeHead,
  decodeIds,
  decodeList,
  decodeMessages,
  decodeRequest,
  decodeStateResponse,
  decodeSummary,
  encodeHead,
  encodeIds,
  encodeList,
  encodeMessages,
  encodeRequest,
  encodeStateResponse,
  encodeSummary,
} from '../../protocol/sync.ts';
import { hex, mutatedBytes, type FuzzTarget } from '../harness.ts';

const DECODERS = {
  message: decodeMessage,
  request: decodeRequest,
  summary: decodeSummary,
  ids: decodeIds,
  messages: decodeMessages,
  list: decodeList,
  state: decodeStateResponse,
  head: decodeHead,
};
type Decoder = keyof typeof DECODERS;

interface Input {
  decoder: Decoder;
  bytes: Uint8Array;
}

const b = (n: number, v: number) => new Uint8Array(n).fill(v);

export const protocolTarget: FuzzTarget<Input> = {
  name: 'protocol',
  covers: 'Sprint protocol messages (decodeMessage) and sprint-sync requests and responses (src/protocol)',
  async setup() {
    const header = (epoch: number) => ({ epoch, sender: b(32, 3), timestampMs: 1_700_000_000_000 + epoch });
    const unsigned: Unsigned[] = [
      { ...header(1), kind: 'commit' as const, commitment: b(32, 1) },
      { ...header(2), kind: 'reveal' as const, secret: b(32, 2) },
      { ...header(3), kind: 'proof' as const, seed: b(32, 4), count: 7, root: b(32, 5), noncesTried: 1000 },
      { ...header(4), kind: 'vote' as const, stateHash: b(32, 6) },
      ...[0, 1, 3].map((n): Unsigned => ({
        ...header(5),
        kind: 'validation',
        binding: { ed25519PublicKey: b(32, 3), blsPublicKey: b(48, 7), signature: b(64, 8), proofOfPossession: b(96, 9) },
        lottery: b(96, 10),
        entries: Array.from({ length: n }, (_, i) => ({ host: b(32, 11 + i), proofId: b(32, 20 + i), verdict: Verdict.ok, checked: 0, mismatches: 0 })),
      })),
    ];
    const messages: Uint8Array[] = [];
    for (const m of unsigned) {
      try {
        const u = encodeUnsigned(m);
        const out = new Uint8Array(u.length + 64);
        out.set(u);
        out.fill(0x55, u.length);
        messages.push(out);
      } catch {
        // a body its own encoder refuses (e.g. verdict rules): not a sample
      }
    }
    if (messages.length === 0) throw new Error('protocol fuzz target: no sample message encodes');
    const id = 'ab'.repeat(32);
    const samples: Record<Decoder, Uint8Array[]> = {
      message: messages,
      request: [
        encodeRequest({ op: 'summary', epoch: 3 }),
        encodeRequest({ op: 'ids', epoch: 3, mask: 0xffff }),
        encodeRequest({ op: 'get', epoch: 3, ids: [id, 'cd'.repeat(32)] }),
        encodeRequest({ op: 'list', root: b(32, 1) }),
        encodeRequest({ op: 'state', epoch: 2 }),
        encodeRequest({ op: 'head' }),
      ],
      summary: [
        encodeSummary(
          3,
          Array.from({ length: 16 }, (_, i) => b(32, i)),
        ),
      ],
      ids: [encodeIds([id, 'cd'.repeat(32)]), encodeIds([])],
      messages: [encodeMessages(messages.slice(0, 3)), encodeMessages([])],
      list: [encodeList(b(200, 1))],
      state: [encodeStateResponse(b(100, 2), b(50, 3))],
      head: [encodeHead(5), Uint8Array.of(1)],
    };
    const arbitrary: fc.Arbitrary<Input> = fc
      .constantFrom(...(Object.keys(DECODERS) as Decoder[]))
      .chain((decoder) => fc.record({ decoder: fc.constant(decoder), bytes: mutatedBytes(samples[decoder], { maxRandomLength: 200 }) }));
    return {
      arbitrary,
      run(input) {
        const value = DECODERS[input.decoder](input.bytes);
        return value === null ? { rejected: 'not found (status 1)' } : 'accepted';
      },
      describe: (input) => `${input.decoder} ${hex(input.bytes)}`,
    };
  },
};
