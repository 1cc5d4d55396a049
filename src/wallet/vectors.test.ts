import { describe, expect, it } from 'vitest';
import { hkdfSync } from 'node:crypto';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import * as bip39 from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import vectorsFile from './vectors.json';
import { at } from '../sprint/indexing.ts';
import { makeVectors } from './make-vectors.ts';
import { ED25519_INFO, HKDF_SALT, mnemonicToSeed } from './derive.ts';
import { identityFromMnemonic } from './wallet-identity.ts';
import { verifyKeyBinding } from './lottery.ts';

// trezor/python-mnemonic vectors.json, English, passphrase "TREZOR": entropy → mnemonic → seed.
const TREZOR = [
  [
    '00000000000000000000000000000000',
    'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
    'c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04',
  ],
  [
    '7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f',
    'legal winner thank year wave sausage worth useful legal winner thank yellow',
    '2e8905819b8723fe2c1d161860e5ee1830318dbf49a83bd451cfb8440c28bd6fa457fe1296106559a3c80937a1c1069be3a3a5bd381ee6260e8d9739fce1f607',
  ],
  [
    '80808080808080808080808080808080',
    'letter advice cage absurd amount doctor acoustic avoid letter advice cage above',
    'd71de856f81a8acc65e6fc851a38d4d7ec216fd0796d0a6827a3ad6ed5511a30fa280f12eb2e47ed2ac03b5c462a0358d18d69fe4f985ec81778c1b370b652a8',
  ],
  [
    'ffffffffffffffffffffffffffffffff',
    'zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong',
    'ac27495480225222079d7be181583751e86f571027b0497b5b5d11218e0a8a13332572917f0f8e5a589620c6f15b11c61dee327651a14c34e18231052e48c069',
  ],
  [
    '0000000000000000000000000000000000000000000000000000000000000000',
    'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art',
    'bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8d561a7c3de6f5d4a10be8ed2a5e608d68f92fcc8',
  ],
  [
    '9e885d952ad362caeb4efe34a8e91bd2',
    'ozone drill grab fiber curtain grace pudding thank cruise elder eight picnic',
    '274ddc525802f7c828d8ef7ddbcdc5304e87ac3535913611fbbfa986d0c9e5476c91689f9c8a54fd55bd38606aa6a8595ad213d4c9c9f9aca3fb217069a41028',
  ],
] as const;

describe('BIP39 (official trezor vectors, passphrase TREZOR)', () => {
  for (const [entropy, mnemonic, seed] of TREZOR) {
    it(`${mnemonic.split(' ').slice(0, 2).join(' ')}… (${entropy.length * 4} bits)`, async () => {
      expect(bip39.entropyToMnemonic(hexToBytes(entropy), wordlist)).toBe(mnemonic);
      expect(bytesToHex(bip39.mnemonicToEntropy(mnemonic, wordlist))).toBe(entropy);
      expect(bytesToHex(await bip39.mnemonicToSeed(mnemonic, 'TREZOR'))).toBe(seed);
    });
  }
});

describe('Sprintnet known answers (vectors.json)', () => {
  it('the code reproduces every committed vector', async () => {
    expect(await makeVectors()).toEqual(vectorsFile);
  });

  it('key derivation matches an independent HKDF (node:crypto) and libp2p', async () => {
    for (const v of vectorsFile.vectors) {
      const seed = await mnemonicToSeed(v.mnemonic);
      const ed = new Uint8Array(hkdfSync('sha256', seed, HKDF_SALT, ED25519_INFO, 32));
      expect(bytesToHex(ed)).toBe(v.ed25519Seed);
      const peerId = peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', ed)).toString();
      expect(peerId).toBe(v.peerId);
    }
  });

  it('every vector key binding verifies, and the mnemonic is normalised before use', async () => {
    const v = at(vectorsFile.vectors, 0, 'wallet vector');
    const id = await identityFromMnemonic(`  ${v.mnemonic.toUpperCase().replace(/ /g, '   ')}\n`);
    expect(id.address).toBe(v.address);
    for (const w of vectorsFile.vectors) {
      const binding = {
        ed25519PublicKey: hexToBytes(w.publicKey),
        blsPublicKey: hexToBytes(w.blsPublicKey),
        signature: hexToBytes(w.keyBinding),
        proofOfPossession: hexToBytes(w.blsProofOfPossession),
      };
      expect(verifyKeyBinding(binding, vectorsFile.networkId)).toBe(true);
    }
  });

  it('rejects an invalid mnemonic with INVALID_MNEMONIC', async () => {
    await expect(identityFromMnemonic('abandon '.repeat(12).trim())).rejects.toMatchObject({ code: 'INVALID_MNEMONIC' });
    await expect(identityFromMnemonic('hello world')).rejects.toMatchObject({ code: 'INVALID_MNEMONIC' });
  });
});
