import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';

// The relay's address reaches the app at run time (network.json or ?relay=), so one build
// serves every network.

// Cross-origin isolation: the CPU backend (src/cpu) shares one WebAssembly.Memory between Web
// Workers, and browsers give SharedArrayBuffer only to cross-origin isolated pages. The service
// worker adds the same headers to what it serves (public/sw-coi.js), so an installed or offline
// app, or a host that cannot set headers, stays isolated. See docs/cpu-backend.md.
const crossOriginIsolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [
    react(),
    VitePWA({
      // The manifest is a static file in public/, linked from index.html.
      manifest: false,
      // A new version waits until the volunteer accepts the app's "update available" prompt
      // (src/ui/shell/sw-update.ts), so an update never swaps the app under a running Sprint.
      registerType: 'prompt',
      injectRegister: null,
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,webmanifest,wasm}'],
        importScripts: ['sw-coi.js'],
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        // network.json names the current relay: always ask the network first.
        navigateFallbackDenylist: [/^\/network\.json$/],
        runtimeCaching: [{ urlPattern: /\/network\.json$/, handler: 'NetworkFirst' }],
      },
    }),
  ],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  server: { host: '127.0.0.1', port: 5173, headers: crossOriginIsolation },
  preview: { host: '127.0.0.1', port: 4173, headers: crossOriginIsolation },
});
