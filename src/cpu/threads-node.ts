/** Node's compute threads (worker_threads). Node only: browser code never imports this file. */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ComputeThread, ThreadSpawner } from './threads.ts';

export const nodeSpawner: ThreadSpawner = {
  platform: 'node',
  cores: () => availableParallelism(),
  spawn(source: string, name: string): ComputeThread {
    const w = new Worker(source, { eval: true, name });
    // Threads must not keep the process alive on their own (the engine terminates them on destroy).
    w.unref();
    return {
      postMessage: (m) => w.postMessage(m),
      onMessage: (l) => void w.on('message', l),
      onError: (l) => {
        w.on('error', (e) => l(e instanceof Error ? e.message : String(e)));
        w.on('exit', (code) => {
          if (code !== 0) l(`exited with code ${code}`);
        });
      },
      terminate: () => void w.terminate(),
      keepAlive: (on) => (on ? w.ref() : w.unref()),
    };
  },
};
