/**
 * The volunteer's settings that other parts of the app read: how to reach the network (bootstrap
 * addresses, ICE servers), whether this browser takes part in Sprints, and the Contribute controls. Saved in localStorage
 * and read synchronously, so the network and the Sprint runtime can call the plain getters below
 * at start-up without waiting for React.
 *
 * Precedence, for whoever connects: `?relay=` / `?ice=` in the page URL, then these settings,
 * then the site's /network.json. Empty lists mean "use the site's default".
 */
import { create } from 'zustand';
import { multiaddr } from '@multiformats/multiaddr';
import { checkIntensity } from '../../gpu/sprint-loop.ts';
import { checkStopAfterMinutes } from '../../app/participation.ts';

export const SETTINGS_KEY = 'sprintnet.settings';

export interface NetworkSettings {
  /** Relay / bootstrap multiaddrs; empty: the site's default (network.json). */
  readonly bootstrap: readonly string[];
  readonly iceServers: readonly RTCIceServer[];
}

/** The Contribute screen's controls, kept so that a reload keeps them (src/app/participation.ts uses them). */
export interface ContributeSettings {
  /** Duty cycle from 0.1 to 1 (src/gpu/sprint-loop.ts). */
  readonly intensity: number;
  readonly pauseOnBattery: boolean;
  /** null: no time limit. */
  readonly stopAfterMinutes: number | null;
  /** When Start was pressed (ms), so the time limit counts across a reload; null while off. */
  readonly startedAt: number | null;
}

export interface Settings {
  readonly network: NetworkSettings;
  /** Whether this browser contributes to Sprints (the runtime reads it; consent is separate). */
  readonly participation: boolean;
  readonly contribute: ContributeSettings;
}

export const DEFAULT_CONTRIBUTE: ContributeSettings = { intensity: 1, pauseOnBattery: true, stopAfterMinutes: null, startedAt: null };
export const DEFAULT_SETTINGS: Settings = { network: { bootstrap: [], iceServers: [] }, participation: false, contribute: DEFAULT_CONTRIBUTE };

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  constructor(
    readonly code: 'BAD_BOOTSTRAP' | 'BAD_ICE_SERVER' | 'BAD_START_TIME',
    message: string,
  ) {
    super(message);
  }
}

const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

/** One multiaddr per line, e.g. /dns4/relay.example.org/tcp/443/wss/p2p/12D3KooW…; throws SettingsError naming the bad line. */
export function parseBootstrap(text: string): string[] {
  return lines(text).map((line, i) => {
    if (!line.startsWith('/'))
      throw new SettingsError(
        'BAD_BOOTSTRAP',
        `line ${i + 1}, "${line}", is not an address: it should start with /, like /dns4/relay.example.org/tcp/443/wss/p2p/12D3KooW…`,
      );
    try {
      return multiaddr(line).toString();
    } catch (e) {
      throw new SettingsError('BAD_BOOTSTRAP', `line ${i + 1}, "${line}", is not a valid address (${e instanceof Error ? e.message : String(e)})`);
    }
  });
}

const ICE_URL = /^(stun|stuns|turn|turns):[^\s]+$/;

/** One server per line: `stun:host:port`, or `turn:host:port username credential`. */
export function parseIceServers(text: string): RTCIceServer[] {
  return lines(text).map((line, i) => {
    // `lines` drops blank lines, so a line has a first word.
    const [urls = '', username, credential, ...rest] = line.split(/\s+/);
    const where = `line ${i + 1}, "${line}",`;
    if (!ICE_URL.test(urls)) throw new SettingsError('BAD_ICE_SERVER', `${where} should start with stun:, stuns:, turn: or turns:`);
    const turn = urls.startsWith('turn');
    if (rest.length > 0) throw new SettingsError('BAD_ICE_SERVER', `${where} has more than an address, a user name and a password`);
    if (!turn && username !== undefined) throw new SettingsError('BAD_ICE_SERVER', `${where} is a STUN server, which takes no user name or password`);
    if (turn && (username === undefined || credential === undefined))
      throw new SettingsError('BAD_ICE_SERVER', `${where} is a TURN server and needs a user name and a password after the address`);
    return turn && username !== undefined && credential !== undefined ? { urls, username, credential } : { urls };
  });
}

export const formatBootstrap = (list: readonly string[]): string => list.join('\n');
export const formatIceServers = (list: readonly RTCIceServer[]): string =>
  list.map((s) => [s.urls, s.username, s.credential].filter((p) => p !== undefined).join(' ')).join('\n');

type KeyValue = Pick<Storage, 'getItem' | 'setItem'>;

const isIceRecord = (x: unknown): x is RTCIceServer => {
  const s = x as Record<string, unknown> | null;
  return (
    typeof s === 'object' && s !== null && typeof s.urls === 'string' && ['username', 'credential'].every((k) => s[k] === undefined || typeof s[k] === 'string')
  );
};

/** What is stored, checked field by field: anything malformed falls back to its default. */
export function readSettings(storage: KeyValue | undefined): Settings {
  let raw: unknown;
  try {
    raw = JSON.parse(storage?.getItem(SETTINGS_KEY) ?? 'null');
  } catch {
    return DEFAULT_SETTINGS;
  }
  if (typeof raw !== 'object' || raw === null) return DEFAULT_SETTINGS;
  const r = raw as { network?: { bootstrap?: unknown; iceServers?: unknown }; participation?: unknown; contribute?: Record<string, unknown> };
  const safely = <T>(parse: () => T, fallback: T): T => {
    try {
      return parse();
    } catch {
      return fallback;
    }
  };
  const b = r.network?.bootstrap;
  const ice = r.network?.iceServers;
  const bootstrap = Array.isArray(b) && b.every((x) => typeof x === 'string') ? safely(() => parseBootstrap(b.join('\n')), []) : [];
  const iceServers = Array.isArray(ice) && ice.every(isIceRecord) ? safely(() => parseIceServers(formatIceServers(ice)), []) : [];
  const c = r.contribute ?? {};
  const contribute: ContributeSettings = {
    intensity: safely(() => checkIntensity(c.intensity), DEFAULT_CONTRIBUTE.intensity),
    pauseOnBattery: typeof c.pauseOnBattery === 'boolean' ? c.pauseOnBattery : DEFAULT_CONTRIBUTE.pauseOnBattery,
    stopAfterMinutes: safely(() => checkStopAfterMinutes(c.stopAfterMinutes ?? null), null),
    startedAt: typeof c.startedAt === 'number' && Number.isFinite(c.startedAt) ? c.startedAt : null,
  };
  return { network: { bootstrap, iceServers }, participation: r.participation === true, contribute };
}

export interface SettingsState extends Settings {
  setNetwork(network: NetworkSettings): void;
  setParticipation(on: boolean): void;
  /** Checks each given field (intensity: GpuError BAD_ARGUMENT; stop after: ParticipationError BAD_SETTING) before anything is saved. */
  setContribute(changes: Partial<ContributeSettings>): void;
}

const defaultStorage = (): KeyValue | undefined => {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
};

export function createSettingsStore(storage: KeyValue | undefined = defaultStorage()) {
  return create<SettingsState>()((set, get) => {
    const save = () => {
      const { network, participation, contribute } = get();
      try {
        storage?.setItem(SETTINGS_KEY, JSON.stringify({ network, participation, contribute }));
      } catch {
        // Not saved (storage blocked or full): the setting holds for this page.
      }
    };
    return {
      ...readSettings(storage),
      setNetwork(network) {
        set({ network: { bootstrap: [...network.bootstrap], iceServers: network.iceServers.map((s) => ({ ...s })) } });
        save();
      },
      setParticipation(participation) {
        set({ participation });
        save();
      },
      setContribute(changes) {
        const next = { ...get().contribute, ...changes };
        checkIntensity(next.intensity);
        checkStopAfterMinutes(next.stopAfterMinutes);
        if (next.startedAt !== null && !Number.isFinite(next.startedAt))
          throw new SettingsError('BAD_START_TIME', `startedAt must be a time in ms or null, got ${String(next.startedAt)}`);
        set({ contribute: next });
        save();
      },
    };
  });
}

export const useSettingsStore = createSettingsStore();

/** For the network store: the saved bootstrap addresses and ICE servers (empty lists: the site's default). */
export function getNetworkSettings(): NetworkSettings {
  return useSettingsStore.getState().network;
}

/** For the Sprint runtime: whether this browser takes part in Sprints. */
export function getParticipation(): boolean {
  return useSettingsStore.getState().participation;
}

/** For the Contribute screen and the participation policy: intensity, pause on battery, time limit and its start. */
export function getContributeSettings(): ContributeSettings {
  return useSettingsStore.getState().contribute;
}
