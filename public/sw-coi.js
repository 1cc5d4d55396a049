// Imported by the service worker (vite.config.ts, workbox.importScripts) before Workbox's own code.
// Every response the service worker hands to the page gets the cross-origin isolation headers, so
// the page keeps SharedArrayBuffer (the CPU backend's threads, docs/cpu-backend.md) when it is
// served from the precache, offline, or by a host that does not send the headers itself.
(() => {
  const ISOLATION = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
  const isolate = (response) => {
    if (!(response instanceof Response) || response.status === 0 || response.type === 'opaque' || response.type === 'opaqueredirect') return response;
    const headers = new Headers(response.headers);
    for (const [name, value] of Object.entries(ISOLATION)) if (!headers.has(name)) headers.set(name, value);
    const bodyless = response.status === 204 || response.status === 304;
    return new Response(bodyless ? null : response.body, { status: response.status, statusText: response.statusText, headers });
  };
  const respondWith = FetchEvent.prototype.respondWith;
  FetchEvent.prototype.respondWith = function (response) {
    return respondWith.call(this, Promise.resolve(response).then(isolate));
  };
})();
