/**
 * `?debug=1` test hook: registers an `echo` request handler on the node and exposes
 * `window.__sprintnet` so end-to-end tests can drive request/response, which has no UI yet.
 * Not installed without the query parameter.
 *
 *   window.__sprintnet.peerId(): string | undefined
 *   window.__sprintnet.connections(): ConnectionInfo[]
 *   window.__sprintnet.echo(peerId, bytes): Promise<{ ok, bytes, matches, ms, error? }>
 *     sends `bytes` pseudo-random bytes to peerId's echo handler and checks the reply.
 */
import { getNode, useNetworkStore } from './store.ts';

export const ECHO_PROTOCOL = 'debug-echo';
const ECHO_LIMIT = 4 * 1024 * 1024;

export interface DebugHandle {
  peerId(): string | undefined;
  connections(): unknown[];
  echo(peerId: string, bytes: number): Promise<{ ok: boolean; bytes: number; matches: boolean; ms: number; error?: string }>;
}

export function installDebugHandle(): void {
  if (new URLSearchParams(location.search).get('debug') !== '1') return;
  let handled = false;
  const ensureHandler = async () => {
    const node = getNode();
    if (!node || handled) return;
    handled = true;
    await node.handle(ECHO_PROTOCOL, async (req) => req, { maxRequestBytes: ECHO_LIMIT });
  };
  useNetworkStore.subscribe((s) => {
    if (s.status === 'online') void ensureHandler();
  });
  const handle: DebugHandle = {
    peerId: () => getNode()?.peerId,
    connections: () => getNode()?.connections() ?? [],
    async echo(peerId, bytes) {
      const node = getNode();
      if (!node) return { ok: false, bytes: 0, matches: false, ms: 0, error: 'node not started' };
      const payload = new Uint8Array(bytes);
      for (let at = 0; at < bytes; at += 65536) crypto.getRandomValues(payload.subarray(at, Math.min(bytes, at + 65536)));
      const started = performance.now();
      try {
        const reply = await node.request(peerId, ECHO_PROTOCOL, payload, { timeoutMs: 60_000, maxResponseBytes: ECHO_LIMIT });
        const matches = reply.length === payload.length && reply.every((v, i) => v === payload[i]);
        return { ok: true, bytes: reply.length, matches, ms: performance.now() - started };
      } catch (e) {
        return { ok: false, bytes: 0, matches: false, ms: performance.now() - started, error: `${(e as Error).name}: ${(e as Error).message}` };
      }
    },
  };
  (window as unknown as { __sprintnet?: DebugHandle }).__sprintnet = handle;
}
