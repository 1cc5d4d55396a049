import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BinaryWriter, DecodeError } from '../codec/binary.ts';
import type { GossipMessage } from '../node/node.ts';
import { defaultRegistry } from '../node/topics/index.ts';
import { splitVolunteerTopic, volunteerAnnouncementCodec as codec } from '../node/topics/split-volunteer.ts';
import {
  announceVolunteer,
  listenForVolunteers,
  SPLIT_VOLUNTEER_TOPIC,
  VolunteerDirectory,
  type AnnouncementBus,
  type VolunteerAnnouncement,
} from './announce.ts';
import { isSplitError } from './errors.ts';

const hash = (n: number) => new Uint8Array(32).fill(n);
const good: VolunteerAnnouncement = {
  modelHash: hash(1),
  genesis: hash(9),
  lowestK: 1,
  highestK: 7,
  numLayers: 8,
  decodeTokensPerSecond: 123.5,
  label: 'browser',
};

/** The announcement's bytes with fields written by hand, so the decoder sees values the encoder would refuse. */
const raw = (o: Partial<Record<'version' | 'lowestK' | 'highestK' | 'numLayers', number>> & { rate?: number; label?: string; hashBytes?: number } = {}) =>
  new BinaryWriter()
    .u8(o.version ?? 2)
    .fixed(new Uint8Array(o.hashBytes ?? 32).fill(1), o.hashBytes ?? 32)
    .fixed(new Uint8Array(32).fill(9), 32)
    .u16(o.lowestK ?? 1)
    .u16(o.highestK ?? 7)
    .u16(o.numLayers ?? 8)
    .f64(o.rate ?? 10)
    .string(o.label ?? 'x')
    .finish();

describe('split-volunteer announcement codec', () => {
  it('round-trips, and the topic limit is the largest encoding', () => {
    const bytes = codec.encode(good);
    expect(codec.decode(bytes)).toEqual(good);
    const longest = codec.encode({ ...good, highestK: 4094, numLayers: 4096, label: 'é'.repeat(100) });
    expect(codec.decode(longest).label).toBe('é'.repeat(32)); // clamped to 64 UTF-8 bytes, never mid-character
    expect(longest.length).toBe(splitVolunteerTopic.maxPayloadBytes);
    expect(defaultRegistry().get(SPLIT_VOLUNTEER_TOPIC)).toBe(splitVolunteerTopic);
    expect(codec.decode(raw({ rate: 0 })).decodeTokensPerSecond).toBe(0);
  });

  it('refuses malformed or out-of-range bytes with DecodeError', () => {
    const cases: Array<[string, Uint8Array]> = [
      ['version', raw({ version: 1 })], // version 1 named no genesis
      ['version', raw({ version: 3 })],
      ['lowestK', raw({ lowestK: 0 })],
      ['highestK', raw({ lowestK: 5, highestK: 4 })],
      ['highestK', raw({ highestK: 8 })],
      ['numLayers', raw({ highestK: 1, numLayers: 1 })],
      ['numLayers', raw({ numLayers: 5000 })],
      ['decode rate', raw({ rate: -1 })],
      ['decode rate', raw({ rate: 2e6 })],
      ['exceeds limit', raw({ label: 'x'.repeat(65) })],
      ['truncated', raw().subarray(0, 40)],
      ['trailing', Uint8Array.from([...raw(), 0])],
    ];
    for (const [why, bytes] of cases) {
      let thrown: unknown;
      try {
        codec.decode(bytes);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, why).toBeInstanceOf(DecodeError);
      expect((thrown as Error).message, why).toContain(why);
    }
    // A NaN rate cannot even be read: the reader refuses non-finite f64.
    const nan = raw();
    new DataView(nan.buffer).setFloat64(1 + 32 + 32 + 6, Number.NaN, true);
    expect(() => codec.decode(nan)).toThrow(DecodeError);
  });

  it('any bytes decode to a valid announcement or a DecodeError, nothing else', () => {
    const sample = codec.encode(good);
    const mutated = fc.tuple(fc.nat({ max: sample.length - 1 }), fc.nat({ max: 255 })).map(([i, v]) => sample.map((b, j) => (j === i ? v : b)));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 140 }), mutated), (bytes) => {
        try {
          const a = codec.decode(bytes);
          expect(codec.encode(a)).toEqual(bytes); // canonical: what decodes re-encodes to the same bytes
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('refuses to encode an invalid announcement of our own', () => {
    expect(() => codec.encode({ ...good, modelHash: new Uint8Array(31) })).toThrow(RangeError);
    expect(() => codec.encode({ ...good, genesis: new Uint8Array(31) })).toThrow(RangeError);
    expect(() => codec.encode({ ...good, highestK: 8 })).toThrow(RangeError);
    expect(() => codec.encode({ ...good, decodeTokensPerSecond: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });
});

describe('VolunteerDirectory', () => {
  it('lists the volunteers of a model hash that accept k, drops silent ones, and refuses newcomers when full', () => {
    let t = 0;
    const d = new VolunteerDirectory({ maxEntries: 2, ttlMs: 1_000, now: () => t });
    expect(d.receive('A', good)).toBe(true);
    expect(d.receive('B', { ...good, modelHash: hash(2) })).toBe(true);
    expect(d.receive('C', good)).toBe(false); // full
    expect(d.forModel(hash(1), 3).map((v) => v.peerId)).toEqual(['A']);
    expect(d.forModel(hash(2), 3).map((v) => v.peerId)).toEqual(['B']);
    expect(d.forModel(hash(1), 8)).toEqual([]); // k outside [lowestK, highestK]
    t = 900;
    expect(d.receive('A', { ...good, lowestK: 4 })).toBe(true); // a listed peer refreshes
    expect(d.forModel(hash(1), 3)).toEqual([]);
    t = 1_500; // B was last heard at 0
    expect(d.size).toBe(1);
    expect(d.receive('C', good)).toBe(true);
    expect(d.receive('D', { ...good, lowestK: 0 })).toBe(false); // invalid, whatever the table
    expect(() => d.forModel(new Uint8Array(3), 1)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(() => d.forModel(hash(1), 0)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});

describe('announcing over a node', () => {
  afterEach(() => vi.useRealTimers());

  /** An in-memory bus: what one node publishes, every node's listeners receive, as the node's gossip would deliver it. */
  function bus(peerId: string, wire: Array<(m: GossipMessage) => void>, published: VolunteerAnnouncement[]): AnnouncementBus {
    return {
      peerId,
      onGossip<T>(name: string, listener: (m: GossipMessage<T>) => void) {
        const l = (m: GossipMessage) => {
          if (m.topic === name) listener(m as GossipMessage<T>);
        };
        wire.push(l);
        return () => wire.splice(wire.indexOf(l), 1);
      },
      async publish<T>(name: string, value: T) {
        // Through the codec, as the wire would carry it.
        const v = codec.decode(codec.encode(value as VolunteerAnnouncement));
        published.push(v);
        for (const l of [...wire]) l({ topic: name, from: peerId, value: v, timestampMs: 0, sprint: 0, id: '' });
      },
    };
  }

  it('announces at once and on every tick until stopped; a listener lists others, not itself', () => {
    vi.useFakeTimers();
    const wire: Array<(m: GossipMessage) => void> = [];
    const sent: VolunteerAnnouncement[] = [];
    const volunteer = bus('V', wire, sent);
    const user = bus('U', wire, []);
    const userDir = new VolunteerDirectory();
    const volunteerDir = new VolunteerDirectory();
    listenForVolunteers(user, userDir);
    listenForVolunteers(volunteer, volunteerDir);
    const a = announceVolunteer(volunteer, good, 1_000);
    expect(sent).toHaveLength(1);
    expect(userDir.forModel(hash(1), 1).map((v) => v.peerId)).toEqual(['V']);
    expect(volunteerDir.size).toBe(0);
    vi.advanceTimersByTime(3_000);
    expect(sent).toHaveLength(4);
    a.stop();
    vi.advanceTimersByTime(3_000);
    expect(sent).toHaveLength(4);
  });

  it('refuses a bad announcement or interval with a SplitError', () => {
    const b = bus('V', [], []);
    for (const f of [() => announceVolunteer(b, { ...good, lowestK: 9 }), () => announceVolunteer(b, good, 0)]) {
      let thrown: unknown;
      try {
        f();
      } catch (e) {
        thrown = e;
      }
      expect(isSplitError(thrown, 'BAD_ARGUMENT')).toBe(true);
    }
  });
});
