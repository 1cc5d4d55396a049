import { describe, expect, it } from 'vitest';
import { SETTINGS_KEY, SettingsError, createSettingsStore, formatIceServers, parseBootstrap, parseIceServers, readSettings } from './store.ts';
import { CONSENT_KEY, CONSENT_VERSION, createConsentStore, readConsent } from '../welcome/consent.ts';

class MemoryStorage {
  readonly map = new Map<string, string>();
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.map.set(k, v);
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
}

const RELAY = '/ip4/127.0.0.1/tcp/9091/ws/p2p/12D3KooWKtTwDkNzhrqXZ4NM5BZ3FAR4fLH16XiUvmLvc9Su1sGN';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof SettingsError) return e.code;
    throw e;
  }
  return undefined;
}

describe('settings parsing', () => {
  it('bootstrap: one multiaddr per line; blank lines and # comments are skipped; bad lines are named', () => {
    expect(parseBootstrap(`\n# local relay\n  ${RELAY}  \n/dns4/relay.example.org/tcp/443/wss\n`)).toEqual([RELAY, '/dns4/relay.example.org/tcp/443/wss']);
    expect(codeOf(() => parseBootstrap('relay.example.org:443'))).toBe('BAD_BOOTSTRAP');
    expect(() => parseBootstrap(`${RELAY}\n/ip4/999.1.1.1/tcp/1`)).toThrow(/line 2, "\/ip4\/999.1.1.1\/tcp\/1"/);
  });

  it('ICE servers: stun without credentials, turn with both', () => {
    const text = 'stun:stun.example.org:3478\nturns:turn.example.org:5349 alice s3cret';
    const parsed = parseIceServers(text);
    expect(parsed).toEqual([{ urls: 'stun:stun.example.org:3478' }, { urls: 'turns:turn.example.org:5349', username: 'alice', credential: 's3cret' }]);
    expect(formatIceServers(parsed)).toBe(text);
    expect(codeOf(() => parseIceServers('http://stun.example.org'))).toBe('BAD_ICE_SERVER');
    expect(() => parseIceServers('turn:turn.example.org:3478 alice')).toThrow(/needs a user name and a password/);
    expect(() => parseIceServers('stun:stun.example.org alice pw')).toThrow(/takes no user name/);
    expect(() => parseIceServers('turn:t.example.org a b c')).toThrow(/more than/);
  });
});

describe('settings persistence', () => {
  it('defaults, then what was saved survives a new store (a reload)', () => {
    const storage = new MemoryStorage();
    const first = createSettingsStore(storage);
    expect(first.getState()).toMatchObject({ network: { bootstrap: [], iceServers: [] }, participation: false });
    first.getState().setNetwork({ bootstrap: [RELAY], iceServers: [{ urls: 'stun:s.example.org:3478' }] });
    first.getState().setParticipation(true);
    const again = createSettingsStore(storage);
    expect(again.getState().network).toEqual({ bootstrap: [RELAY], iceServers: [{ urls: 'stun:s.example.org:3478' }] });
    expect(again.getState().participation).toBe(true);
  });

  it('malformed storage falls back field by field, never throws', () => {
    const storage = new MemoryStorage();
    storage.setItem(SETTINGS_KEY, '{not json');
    expect(readSettings(storage).participation).toBe(false);
    storage.setItem(
      SETTINGS_KEY,
      JSON.stringify({ network: { bootstrap: ['nonsense'], iceServers: [{ urls: 'stun:ok.example.org' }] }, participation: 'yes' }),
    );
    expect(readSettings(storage)).toMatchObject({ network: { bootstrap: [], iceServers: [{ urls: 'stun:ok.example.org' }] }, participation: false });
    storage.setItem(SETTINGS_KEY, JSON.stringify({ network: { bootstrap: [RELAY], iceServers: [{ urls: 42 }] }, participation: true }));
    expect(readSettings(storage)).toMatchObject({ network: { bootstrap: [RELAY], iceServers: [] }, participation: true });
  });

  it('the Contribute controls are checked, saved and restored; bad values throw typed errors and change nothing', () => {
    const storage = new MemoryStorage();
    const store = createSettingsStore(storage);
    expect(store.getState().contribute).toEqual({ intensity: 1, pauseOnBattery: true, stopAfterMinutes: null, startedAt: null });
    store.getState().setContribute({ intensity: 0.25, stopAfterMinutes: 30, startedAt: 1_700_000_000_000 });
    store.getState().setContribute({ pauseOnBattery: false });
    expect(createSettingsStore(storage).getState().contribute).toEqual({
      intensity: 0.25,
      pauseOnBattery: false,
      stopAfterMinutes: 30,
      startedAt: 1_700_000_000_000,
    });
    expect(() => store.getState().setContribute({ intensity: 0.05 })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(() => store.getState().setContribute({ stopAfterMinutes: 0 })).toThrow(expect.objectContaining({ code: 'BAD_SETTING' }));
    expect(() => store.getState().setContribute({ startedAt: Number.NaN })).toThrow(expect.objectContaining({ code: 'BAD_START_TIME' }));
    expect(store.getState().contribute.intensity).toBe(0.25);
    // Stored nonsense falls back to the defaults, field by field.
    storage.setItem(SETTINGS_KEY, JSON.stringify({ contribute: { intensity: 7, pauseOnBattery: 'no', stopAfterMinutes: -3, startedAt: 'x' } }));
    expect(readSettings(storage).contribute).toEqual({ intensity: 1, pauseOnBattery: true, stopAfterMinutes: null, startedAt: null });
  });

  it('a store without storage (blocked) still works for the page', () => {
    const store = createSettingsStore(undefined);
    store.getState().setParticipation(true);
    expect(store.getState().participation).toBe(true);
  });
});

describe('consent persistence', () => {
  it('accept is remembered with its time; withdraw forgets; another version asks again', () => {
    const storage = new MemoryStorage();
    const store = createConsentStore(storage, () => 1_700_000_000_000);
    expect(store.getState().consent).toBeNull();
    store.getState().accept();
    expect(createConsentStore(storage).getState().consent).toEqual({ version: CONSENT_VERSION, acceptedAt: 1_700_000_000_000 });
    store.getState().withdraw();
    expect(readConsent(storage)).toBeNull();
    storage.setItem(CONSENT_KEY, JSON.stringify({ version: CONSENT_VERSION + 1, acceptedAt: 1 }));
    expect(readConsent(storage)).toBeNull();
    storage.setItem(CONSENT_KEY, 'garbage');
    expect(readConsent(storage)).toBeNull();
  });
});
