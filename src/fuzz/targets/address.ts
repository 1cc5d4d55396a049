/** Addresses (src/wallet/address.ts): parseAddress on damaged addresses, addressHash on hostile keys, addressMatchesPublicKey never throwing. */
import fc from 'fast-check';
import { addressFromPublicKey, addressHash, addressMatchesPublicKey, parseAddress } from '../../wallet/address.ts';
import { InvariantError, type FuzzTarget } from '../harness.ts';
import { SMALL_ORDER_ED25519, key, keyBytes } from './samples.ts';

type Input = { op: 'parse'; text: unknown } | { op: 'hash'; key: Uint8Array } | { op: 'match'; text: string; key: Uint8Array };

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

export const addressTarget: FuzzTarget<Input> = {
  name: 'address',
  covers: 'parseAddress, addressHash, addressMatchesPublicKey (bech32m sn1… addresses)',
  async setup() {
    const keys = [12, 13, 14, 15].map(key);
    const valid = keys.map((k) => addressFromPublicKey(k.pub));
    const edit = fc.oneof(
      fc.record({
        kind: fc.constant('sub' as const),
        at: fc.nat(),
        ch: fc.oneof(fc.constantFrom(...BECH32.split('')), fc.constantFrom('1', 'b', 'i', 'o', 'B', 'Q', ' ', '\u0000', 'é', '𝟙')),
      }),
      fc.record({ kind: fc.constant('del' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('ins' as const), at: fc.nat(), s: fc.string({ unit: 'binary', maxLength: 4 }) }),
      fc.record({ kind: fc.constant('swap' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('case' as const), how: fc.constantFrom('upper', 'one-upper', 'lower') }),
      fc.record({ kind: fc.constant('pad' as const), s: fc.constantFrom(' ', '\t', '\n', '\u00a0', '\ufeff') }),
    );
    const damaged = fc.tuple(fc.constantFrom(...valid), fc.array(edit, { maxLength: 3 })).map(([a, edits]) => {
      let s = a;
      for (const e of edits) {
        const at = s.length ? ('at' in e ? e.at % s.length : 0) : 0;
        if (e.kind === 'sub') s = s.slice(0, at) + e.ch + s.slice(at + 1);
        else if (e.kind === 'del') s = s.slice(0, at) + s.slice(at + e.n);
        else if (e.kind === 'ins') s = s.slice(0, at) + e.s + s.slice(at);
        else if (e.kind === 'swap' && at + 1 < s.length) s = s.slice(0, at) + s[at + 1] + s[at] + s.slice(at + 2);
        else if (e.kind === 'case')
          s = e.how === 'upper' ? s.toUpperCase() : e.how === 'lower' ? s.toLowerCase() : s.slice(0, at) + s.charAt(at).toUpperCase() + s.slice(at + 1);
        else if (e.kind === 'pad') s = e.s + s + e.s;
      }
      return s;
    });
    const text = fc.oneof(
      { weight: 8, arbitrary: damaged },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
      { weight: 1, arbitrary: fc.stringMatching(/^(sn|SN|bc|sn1)1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{0,45}$/) },
    );
    const keyArb = keyBytes(
      keys.map((k) => k.pub),
      SMALL_ORDER_ED25519,
    );
    const arbitrary: fc.Arbitrary<Input> = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({ op: fc.constant('parse' as const), text: fc.oneof({ weight: 20, arbitrary: text }, { weight: 1, arbitrary: fc.anything() }) }),
      },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('hash' as const), key: keyArb }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('match' as const), text, key: keyArb }) },
    );
    return {
      arbitrary,
      run(input) {
        switch (input.op) {
          case 'parse':
            parseAddress(input.text as string);
            return 'accepted';
          case 'hash':
            addressHash(input.key);
            return 'accepted';
          case 'match': {
            let result: boolean;
            try {
              result = addressMatchesPublicKey(input.text, input.key);
            } catch (e) {
              throw new InvariantError(`addressMatchesPublicKey threw ${(e as Error).name}: ${(e as Error).message}`);
            }
            return result ? 'accepted' : { rejected: 'no match' };
          }
        }
      },
    };
  },
};
