/** Public wallet API. Node-only helpers live in ./node-loader.ts (not re-exported: it imports node:fs). */
export { WalletError, isWalletError, type WalletErrorCode } from './errors.ts';
export { identityFromEd25519Seed, type SigningIdentity } from './identity.ts';
export {
  identityFromMnemonic,
  identityFromEntropy,
  wipeIdentity,
  type WalletIdentity,
  type IdentityOptions,
} from './wallet-identity.ts';
export {
  generateMnemonic,
  normalizeMnemonic,
  mnemonicToEntropy,
  entropyToMnemonic,
  mnemonicToSeed,
  deriveSecrets,
  HKDF_SALT,
  ED25519_INFO,
  BLS_INFO,
  type MnemonicStrength,
  type DerivedSecrets,
} from './derive.ts';
export {
  addressFromPublicKey,
  addressHash,
  parseAddress,
  isValidAddress,
  addressMatchesPublicKey,
  AddressError,
  ADDRESS_PREFIX,
  ADDRESS_LENGTH,
  type AddressErrorReason,
} from './address.ts';
export {
  signTyped,
  verifyTyped,
  signingBytes,
  MessageType,
  PROTOCOL_VERSION,
  DEFAULT_NETWORK_ID,
  type SigningDomain,
} from './signing.ts';
export {
  lotterySign,
  lotteryVerify,
  lotteryValue,
  verifiedLotteryValue,
  blsPublicKey,
  keyBindingPayload,
  signKeyBinding,
  verifyKeyBinding,
  LOTTERY_DST,
} from './lottery.ts';
export {
  encryptKeystore,
  decryptKeystore,
  parseKeystore,
  serializeKeystore,
  DEFAULT_SCRYPT,
  TEST_SCRYPT,
  KEYSTORE_VERSION,
  KEYSTORE_FORMAT,
  type KeystoreFile,
  type ScryptParams,
  type KdfProgress,
} from './keystore.ts';
export {
  openSprintnetDb,
  upgrade,
  SprintnetDb,
  DB_NAME,
  DB_VERSION,
  type ProofRecord,
  type LedgerEntry,
  type SprintStateRecord,
  type KeystoreRecord,
  type SprintnetSchema,
} from './db.ts';
export { Wallet, type WalletState, type WalletInfo, type WalletOptions, type WriteOptions } from './wallet.ts';
