/**
 * The words and number formats a volunteer reads, shared by the headless host's log (src/cli) so
 * that it says what the app says: "tries", "finds", "tries per second", "12 min 05 s".
 * src/ui/contribute/format.ts re-exports these formats for the app's screens.
 */
import type { BuildPhase } from '../gpu/engine-types.ts';
import type { TransportKind } from '../node/connections.ts';
import type { RelayState } from '../node/relay-keeper.ts';

// One formatter: toLocaleString builds a new one per call, which showed in the page's profile.
const COUNT = new Intl.NumberFormat('en-US');
export const formatCount = (n: number): string => COUNT.format(Math.round(n));

/** Tries per second with about three significant figures: 0.42, 12.3, 1,234. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0';
  if (perSecond >= 100) return formatCount(perSecond);
  return perSecond >= 10 ? perSecond.toFixed(1) : perSecond.toPrecision(2);
}

/** "45 s", "12 min 05 s", "2 h 03 min". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** "1 find", "1,234 finds". */
export const countOf = (n: number, one: string, many = `${one}s`): string => `${formatCount(n)} ${n === 1 ? one : many}`;

/** The work of a Sprint so far: "12,345 tries in 1 min 05 s, 3 finds, 190 tries per second". */
export function workSummary(tried: number, found: number, elapsedMs: number, perSecond: number): string {
  return `${countOf(tried, 'try', 'tries')} in ${formatDuration(elapsedMs)}, ${countOf(found, 'find')}, ${formatRate(perSecond)} tries per second`;
}

export const BUILD_PHASE_WORDS: Record<BuildPhase, string> = {
  autotune: 'Choosing the fastest kernels',
  weights: 'Generating model weights',
  compile: 'Compiling kernels',
};

export const STOP_WORDS = {
  duration: 'the Sprint’s time is up',
  maxNonces: 'every try was made',
  abort: 'stopped',
} as const;

/** How a peer is reached, as the Network screen says it. */
export function connectionWords(transport: TransportKind): string {
  return transport === 'relayed' ? 'through relay' : 'direct';
}

export function relayWords(state: RelayState): string {
  switch (state) {
    case 'connected':
      return 'connected to the network through the relay';
    case 'connecting':
      return 'connecting to the relay…';
    case 'waiting':
      return 'not connected to the network: the relay cannot be reached; trying again shortly';
    case 'idle':
      return 'not connected to the network: no relay is configured';
  }
}

/** A peer id as the Network screen shows it: the first 8 and the last 6 characters. */
export const shortId = (id: string): string => (id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id);
