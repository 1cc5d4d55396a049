import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The relay's address is served at /network.json by `bin/sprintnet start`
// (it writes public/network.json), so the built app needs no rebuild per network.
export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
});
