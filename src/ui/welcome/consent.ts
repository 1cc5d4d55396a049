/**
 * The volunteer's consent to let Sprintnet use this computer's GPU, kept in localStorage so the
 * first screen can be chosen synchronously at start-up. Raising CONSENT_VERSION (when what the
 * welcome screen promises changes) asks everyone again.
 */
import { create } from 'zustand';

export const CONSENT_KEY = 'sprintnet.consent';
export const CONSENT_VERSION = 1;

export interface Consent {
  readonly version: number;
  /** Unix ms. */
  readonly acceptedAt: number;
}

type KeyValue = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const defaultStorage = (): KeyValue | undefined => {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined; // storage blocked by privacy settings
  }
};

export function readConsent(storage: KeyValue | undefined = defaultStorage()): Consent | null {
  try {
    const raw = storage?.getItem(CONSENT_KEY);
    if (!raw) return null;
    const v = JSON.parse(raw) as Partial<Consent>;
    return v.version === CONSENT_VERSION && typeof v.acceptedAt === 'number' && Number.isFinite(v.acceptedAt)
      ? { version: v.version, acceptedAt: v.acceptedAt }
      : null;
  } catch {
    return null;
  }
}

export interface ConsentState {
  consent: Consent | null;
  accept(): void;
  withdraw(): void;
}

export function createConsentStore(storage: KeyValue | undefined = defaultStorage(), now: () => number = Date.now) {
  return create<ConsentState>()((set) => ({
    consent: readConsent(storage),
    accept() {
      const consent = { version: CONSENT_VERSION, acceptedAt: now() };
      try {
        storage?.setItem(CONSENT_KEY, JSON.stringify(consent));
      } catch {
        // Not saved (storage blocked or full): it holds for this page, and the welcome asks again next time.
      }
      set({ consent });
    },
    withdraw() {
      try {
        storage?.removeItem(CONSENT_KEY);
      } catch {
        // nothing stored to remove
      }
      set({ consent: null });
    },
  }));
}

export const useConsentStore = createConsentStore();
