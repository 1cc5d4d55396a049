/**
 * Keystore files (src/wallet/keystore.ts): parseKeystore on JSON- and text-level mutations of a real
 * keystore, and decryptKeystore on a share of the inputs that parse (only with the cheap test scrypt
 * parameters the sample was made with, so one input costs milliseconds, not seconds).
 */
import fc from 'fast-check';
import { TEST_SCRYPT, decryptKeystore, encryptKeystore, parseKeystore, serializeKeystore, type KeystoreFile } from '../../wallet/keystore.ts';
import { applyMutations, type FuzzTarget, type Mutation, type Outcome } from '../harness.ts';

const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const PASSPHRASE = 'correct horse battery staple';

type Edit = { path: string[]; value: unknown } | { path: string[]; remove: true };

interface Input {
  form: 'string' | 'object';
  edits: Edit[];
  textMutations: Mutation[];
  decrypt: 'no' | 'right' | 'wrong';
}

const PATHS = [
  ['format'],
  ['version'],
  ['address'],
  ['peerId'],
  ['kdf'],
  ['kdf', 'name'],
  ['kdf', 'N'],
  ['kdf', 'r'],
  ['kdf', 'p'],
  ['kdf', 'dkLen'],
  ['kdf', 'salt'],
  ['cipher'],
  ['cipher', 'name'],
  ['cipher', 'nonce'],
  ['check'],
  ['ciphertext'],
  ['createdAt'],
  ['__proto__'],
  ['constructor'],
];

function hexOf(n: number, upper = false): string {
  const s = Array.from({ length: n }, (_, i) => ((i * 37 + 11) & 0xff).toString(16).padStart(2, '0')).join('');
  return upper ? s.toUpperCase() : s;
}

const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, 1, -1, 1.5, 2 ** 10, 2 ** 17, 2 ** 20, 2 ** 21, 2 ** 31, 2 ** 32, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 1e308, 16, 17, 32, 33, 8, 4, 5),
  fc.constantFrom('', 'scrypt', 'argon2id', 'xchacha20-poly1305', 'aes-256-gcm', 'sprintnet-keystore', '1024', 'NaN', 'Infinity', '0x400'),
  fc.constantFrom(hexOf(16), hexOf(24), hexOf(32), hexOf(31), hexOf(33), hexOf(48), hexOf(49), hexOf(32, true), `${hexOf(31)}zz`, `${hexOf(32)}0`),
  fc.constantFrom(
    'sn14uwvu038ct4k4v4gx9u5y8zuzyl3g9hwkntllr',
    '12D3KooWJkrKGfnsy4bM9RP8yAxsXfeN8PK7Jwb6zzZWjPrsfyHE',
    'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N',
    '12D3KooW',
  ),
  fc.constantFrom(null, true, false, [], {}, [1, 2], { N: 1024 }),
  fc.jsonValue({ maxDepth: 2 }),
);

export const keystoreTarget: FuzzTarget<Input> = {
  name: 'keystore',
  covers: 'parseKeystore (JSON and text mutations), decryptKeystore on 1 in 50 inputs that parse',
  async setup() {
    const file = await encryptKeystore(MNEMONIC, PASSPHRASE, TEST_SCRYPT);
    const edit: fc.Arbitrary<Edit> = fc.oneof(
      fc.record({ path: fc.constantFrom(...PATHS), value }),
      fc.record({ path: fc.constantFrom(...PATHS), remove: fc.constant(true as const) }),
    );
    const textMutation: fc.Arbitrary<Mutation[]> = fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
        fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
        fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
        fc.record({
          kind: fc.constant('insert' as const),
          at: fc.nat(),
          bytes: fc.constantFrom(...['"', '{', '}', ',', '1e999', '\\u0000', ']', 'null', '-0'].map((s) => new TextEncoder().encode(s))),
        }),
      ),
      { maxLength: 2 },
    );
    const arbitrary: fc.Arbitrary<Input> = fc.record({
      form: fc.constantFrom<Input['form']>('string', 'string', 'object'),
      edits: fc.array(edit, { maxLength: 3 }),
      textMutations: fc.oneof({ weight: 4, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 1, arbitrary: textMutation }),
      decrypt: fc.oneof(
        { weight: 48, arbitrary: fc.constant('no' as const) },
        { weight: 1, arbitrary: fc.constant('right' as const) },
        { weight: 1, arbitrary: fc.constant('wrong' as const) },
      ),
    });
    const build = (input: Input): unknown => {
      const obj = JSON.parse(JSON.stringify(file)) as Record<string, unknown>;
      for (const e of input.edits) {
        let at: Record<string, unknown> | undefined = obj;
        for (const k of e.path.slice(0, -1)) {
          const next: unknown = at?.[k];
          at = typeof next === 'object' && next !== null ? (next as Record<string, unknown>) : undefined;
        }
        if (!at) continue;
        const last = e.path.at(-1);
        if (last === undefined) continue;
        if ('remove' in e) delete at[last];
        // A copy: the generated value must stay as fast-check made it (later edits may write into it).
        else Object.defineProperty(at, last, { value: structuredClone(e.value), enumerable: true, configurable: true, writable: true });
      }
      if (input.form === 'object' && input.textMutations.length === 0) return obj;
      const text = serializeKeystore(obj as unknown as KeystoreFile);
      if (input.textMutations.length === 0) return text;
      return new TextDecoder().decode(applyMutations(new TextEncoder().encode(text), input.textMutations));
    };
    return {
      arbitrary,
      async run(input): Promise<Outcome> {
        const candidate = build(input);
        const parsed = parseKeystore(candidate);
        const cheap = parsed.kdf.N === TEST_SCRYPT.N && parsed.kdf.r === TEST_SCRYPT.r && parsed.kdf.p === TEST_SCRYPT.p;
        if (input.decrypt !== 'no' && cheap) {
          const id = await decryptKeystore(candidate as string | KeystoreFile, input.decrypt === 'right' ? PASSPHRASE : 'wrong passphrase');
          if (id.address !== parsed.address) throw new Error('decrypted identity does not match the file');
        }
        return 'accepted';
      },
    };
  },
};
