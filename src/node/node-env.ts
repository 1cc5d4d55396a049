/**
 * Node-only environment set-up for the libp2p node (headless host, relay, tests). Import it before
 * creating a node in Node. @libp2p/websockets dials with the global WebSocket, which Node has only
 * from 22; on Node 20 we install `ws` (already a dependency of the websockets listener).
 */
import './polyfills.ts';

if (typeof globalThis.WebSocket === 'undefined') {
  // `ws` ships no types and we only hand its class to libp2p, so import it untyped.
  const wsModule: string = 'ws';
  const { WebSocket } = (await import(wsModule)) as { WebSocket: unknown };
  (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
}

export {};
