/**
 * Notices between this origin's tabs over one BroadcastChannel: a tab started or stopped
 * contributing its GPU (and so running the Sprint protocol). They only prompt a re-read: the
 * truth is the Web Lock (who runs the GPU), so a lost notice costs nothing but a late refresh.
 * The wallet has its own channel (src/wallet/wallet.ts).
 */
export type TabNotice = { type: 'gpu'; running: boolean };

const CHANNEL = 'sprintnet-tabs';
let channel: BroadcastChannel | null = null;
const listeners = new Set<(notice: TabNotice) => void>();

function open(): BroadcastChannel | null {
  if (channel || typeof BroadcastChannel !== 'function') return channel;
  channel = new BroadcastChannel(CHANNEL);
  (channel as { unref?: () => void }).unref?.();
  channel.onmessage = (e: MessageEvent<TabNotice>) => {
    for (const l of listeners) l(e.data);
  };
  return channel;
}

/** Tells the other tabs (never this one). */
export function noticeTabs(notice: TabNotice): void {
  open()?.postMessage(notice);
}

/** Hears the other tabs' notices. */
export function onTabNotice(listener: (notice: TabNotice) => void): () => void {
  open();
  listeners.add(listener);
  return () => listeners.delete(listener);
}
