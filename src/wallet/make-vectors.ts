/**
 * Regenerates vectors.json: `npx tsx src/wallet/make-vectors.ts > src/wallet/vectors.json`.
 * Only run this on purpose (a derivation change is a breaking change: addresses move).
 */
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { identityFromMnemonic } from './wallet-identity.ts';
import { lotterySign, lotteryValue } from './lottery.ts';
import { MessageType, signTyped, DEFAULT_NETWORK_ID } from './signing.ts';

export const VECTOR_MNEMONICS = [
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
  'legal winner thank year wave sausage worth useful legal winner thank yellow',
  'zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote',
];
export const VECTOR_PAYLOAD = utf8ToBytes('sprintnet test vector');
export const VECTOR_DOMAIN = { type: MessageType.SprintProof, networkId: DEFAULT_NETWORK_ID };

export async function makeVectors() {
  const out = [];
  for (const mnemonic of VECTOR_MNEMONICS) {
    const id = await identityFromMnemonic(mnemonic);
    const lottery = lotterySign(id.blsSecretKey, id.publicKey, VECTOR_DOMAIN, VECTOR_PAYLOAD);
    out.push({
      mnemonic,
      entropy: bytesToHex(id.mnemonicEntropy),
      ed25519Seed: bytesToHex(id.ed25519Seed),
      publicKey: bytesToHex(id.publicKey),
      address: id.address,
      peerId: id.peerId,
      blsSecretKey: bytesToHex(id.blsSecretKey),
      blsPublicKey: bytesToHex(id.blsPublicKey),
      keyBinding: bytesToHex(id.keyBinding.signature),
      blsProofOfPossession: bytesToHex(id.keyBinding.proofOfPossession),
      signature: bytesToHex(signTyped(id.ed25519Seed, VECTOR_DOMAIN, VECTOR_PAYLOAD)),
      lotterySignature: bytesToHex(lottery),
      lotteryValue: bytesToHex(lotteryValue(lottery)),
    });
  }
  return { networkId: DEFAULT_NETWORK_ID, payloadUtf8: 'sprintnet test vector', domainType: VECTOR_DOMAIN.type, vectors: out };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await makeVectors(), null, 2));
}
