/**
 * A local "practice Sprint" and its saved progress. Until the Sprint protocol announces seeds,
 * the volunteer searches a Sprint of their own: a random seed, shown, with the unlocked wallet's
 * public key or, without one, an ephemeral key that is clearly not a wallet. Everything the
 * search found is saved in the `sprintState` IndexedDB store after every report, so a reload
 * resumes from the saved next nonce and loses nothing.
 *
 * Saves merge with what is stored inside one readwrite transaction (union of finds, furthest
 * resume point), so two tabs saving the same Sprint never drop each other's finds.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import type { FoundNonce } from '../../gpu/errors.ts';
import type { SprintnetDb } from '../../wallet/index.ts';
import { getDb } from '../storage/store.ts';

export type KeySource = 'wallet' | 'ephemeral';

export interface PracticeSprint {
  readonly kind: 'practice';
  readonly sprintId: string;
  readonly config: string;
  readonly sprintSeedHex: string;
  readonly publicKeyHex: string;
  readonly keySource: KeySource;
  /** Wallet address when keySource is 'wallet'. */
  readonly address?: string;
  readonly startedAt: number;
  /** Every nonce below this one (from 0) has been evaluated. */
  readonly nextNonce: number;
  readonly found: readonly FoundNonce[];
}

export const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
export const fromHex = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));

export interface HostKey {
  readonly publicKey: Uint8Array;
  readonly source: KeySource;
  readonly address?: string;
}

/** A fresh Ed25519 public key whose secret is dropped at once: practice only, it can claim nothing. */
export function ephemeralKey(): HostKey {
  return { publicKey: ed25519.getPublicKey(ed25519.utils.randomSecretKey()), source: 'ephemeral' };
}

export function newPracticeSprint(config: string, key: HostKey): PracticeSprint {
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const sprintSeedHex = toHex(seed);
  return {
    kind: 'practice',
    sprintId: `practice:${sprintSeedHex.slice(0, 16)}:${toHex(key.publicKey).slice(0, 16)}`,
    config,
    sprintSeedHex,
    publicKeyHex: toHex(key.publicKey),
    keySource: key.source,
    address: key.address,
    startedAt: Date.now(),
    nextNonce: 0,
    found: [],
  };
}

const isPractice = (state: unknown): state is PracticeSprint =>
  typeof state === 'object' && state !== null && (state as PracticeSprint).kind === 'practice' && typeof (state as PracticeSprint).sprintSeedHex === 'string';

/** Finds of both, one per nonce, in nonce order. */
export function mergeFound(a: readonly FoundNonce[], b: readonly FoundNonce[]): FoundNonce[] {
  const seen = new Set(a.map((f) => f.nonce));
  return [...a, ...b.filter((f) => !seen.has(f.nonce))].sort((x, y) => x.nonce - y.nonce);
}

/**
 * What two copies of one practice Sprint know together: every find of either, and the further
 * resume point (nonces below either's nextNonce were all evaluated by one of them). Identity
 * fields come from `base`; they are equal for equal sprintIds.
 */
export function mergePractice(base: PracticeSprint, other: PracticeSprint | null | undefined): PracticeSprint {
  if (!other || other.sprintId !== base.sprintId) return base;
  return { ...base, nextNonce: Math.max(base.nextNonce, other.nextNonce), found: mergeFound(base.found, other.found) };
}

/** The practice Sprint saved most recently, if any. */
export async function loadCurrentPractice(store?: SprintnetDb): Promise<PracticeSprint | null> {
  const records = await (store ?? (await getDb())).listSprintStates();
  const practice = records.filter((r) => isPractice(r.state)).sort((a, b) => b.updatedAt - a.updatedAt);
  return (practice[0]?.state as PracticeSprint | undefined) ?? null;
}

/** The stored copy of one practice Sprint, if any. */
export async function loadPractice(sprintId: string, store?: SprintnetDb): Promise<PracticeSprint | null> {
  const record = await (store ?? (await getDb())).loadSprintState<unknown>(sprintId);
  return record && isPractice(record.state) ? record.state : null;
}

/**
 * Saves `sprint` merged with the stored copy (read and write in one transaction) and returns
 * the merged Sprint, which may hold finds another tab saved.
 */
export async function savePractice(sprint: PracticeSprint, store?: SprintnetDb): Promise<PracticeSprint> {
  return (store ?? (await getDb())).updateSprintState<unknown>(sprint.sprintId, (stored) => mergePractice(sprint, isPractice(stored) ? stored : null)) as Promise<PracticeSprint>;
}

/** Forgets every saved practice Sprint but `keep` (a new practice Sprint replaces the old one). */
export async function clearOtherPractice(keep: string, store?: SprintnetDb): Promise<void> {
  const db = store ?? (await getDb());
  for (const r of await db.listSprintStates()) {
    if (isPractice(r.state) && r.sprintId !== keep) await db.clearSprintState(r.sprintId);
  }
}
