/**
 * The CPU backend's compute threads: Web Workers in a browser (./threads-browser.ts), worker_threads
 * in Node (./threads-node.ts). Every thread instantiates the kernels on one shared
 * WebAssembly.Memory and sleeps in Atomics.wait on the control block's JOB word; a job is a
 * program (list of steps) that all threads run together (assembly/cpu/index.ts), and the last thread
 * to finish posts `done`. The worker source is a plain-JS string, so no bundler or loader is needed.
 */
import { Ctrl } from './layout.ts';
import { at } from '../sprint/indexing.ts';

/** What the engine needs from a thread, whatever the platform. */
export interface ComputeThread {
  postMessage(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onError(listener: (message: string) => void): void;
  terminate(): void;
  /** Node: whether the thread keeps the process alive (only while a job runs). No-op in browsers. */
  keepAlive(on: boolean): void;
}

export interface ThreadSpawner {
  readonly platform: 'node' | 'browser';
  /** Logical cores of this machine (navigator.hardwareConcurrency / os.availableParallelism()). */
  cores(): number;
  spawn(source: string, name: string): ComputeThread;
}

/** The worker's whole program: instantiate, then run jobs until QUIT. */
export const WORKER_SOURCE = `
'use strict';
const isNode = typeof self === 'undefined';
const port = isNode ? require('node:worker_threads').parentPort : self;
const start = ({ module, memory, ctrl, tid }) => {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const i32 = new Int32Array(memory.buffer);
  const base = ctrl >> 2;
  const JOB = base + ${Ctrl.JOB}, DONE = base + ${Ctrl.DONE}, QUIT = base + ${Ctrl.QUIT}, THREADS = base + ${Ctrl.THREADS};
  // Read the job counter before saying ready: the first job may be posted right after.
  let seen = Atomics.load(i32, JOB);
  port.postMessage({ ready: tid });
  for (;;) {
    Atomics.wait(i32, JOB, seen);
    const job = Atomics.load(i32, JOB);
    if (job === seen) continue;
    seen = job;
    if (Atomics.load(i32, QUIT)) break;
    try {
      instance.exports.run(ctrl, tid);
    } catch (e) {
      port.postMessage({ job, error: String(e && e.stack || e) });
      continue;
    }
    if (Atomics.add(i32, DONE, 1) === Atomics.load(i32, THREADS) - 1) port.postMessage({ done: job });
  }
  if (isNode) port.close(); else self.close();
};
if (isNode) port.once('message', start); else self.onmessage = (e) => { self.onmessage = null; start(e.data); };
`;

type Waiter = { job: number; resolve: () => void; reject: (e: Error) => void };

export class ThreadPool {
  private readonly i32: Int32Array;
  /** Thread 0: kept alive while a job runs, so Node does not exit under a pending job. */
  private readonly lead: ComputeThread;
  private waiter: Waiter | null = null;
  private failure: Error | null = null;
  private terminated = false;

  private constructor(
    private readonly threads: ComputeThread[],
    memory: WebAssembly.Memory,
    private readonly ctrl: number,
  ) {
    this.i32 = new Int32Array(memory.buffer);
    this.lead = at(threads, 0, 'compute thread');
  }

  get size(): number {
    return this.threads.length;
  }

  static async create(spawner: ThreadSpawner, module: WebAssembly.Module, memory: WebAssembly.Memory, ctrl: number, count: number): Promise<ThreadPool> {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`a CPU thread pool needs a whole number of threads ≥ 1, got ${count}`);
    const i32 = new Int32Array(memory.buffer);
    Atomics.store(i32, (ctrl >> 2) + Ctrl.THREADS, count);
    const threads: ComputeThread[] = [];
    const ready: Promise<void>[] = [];
    let pool: ThreadPool | null = null;
    try {
      for (let tid = 0; tid < count; tid++) {
        const t = spawner.spawn(WORKER_SOURCE, `sprintnet-cpu-${tid}`);
        threads.push(t);
        ready.push(
          new Promise<void>((resolve, reject) => {
            t.onMessage((m) => {
              const msg = m as { ready?: number; done?: number; job?: number; error?: string };
              if (msg.ready !== undefined) resolve();
              else pool?.onThreadMessage(msg);
            });
            t.onError((message) => {
              const e = new Error(`CPU compute thread ${tid} failed: ${message}`);
              reject(e);
              pool?.fail(e);
            });
          }),
        );
        t.postMessage({ module, memory, ctrl, tid });
      }
      const created = new ThreadPool(threads, memory, ctrl);
      pool = created;
      created.lead.keepAlive(true);
      await Promise.all(ready);
      created.lead.keepAlive(false);
      return created;
    } catch (e) {
      threads.forEach((t) => t.terminate());
      throw e;
    }
  }

  /** Runs the program of `steps` records at `prog` on every thread; one job at a time. */
  run(prog: number, steps: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.terminated) return Promise.reject(new Error('CPU thread pool terminated'));
    if (this.waiter) return Promise.reject(new Error('a CPU job is already running'));
    const base = this.ctrl >> 2;
    const i32 = this.i32;
    i32[base + Ctrl.PROG] = prog;
    i32[base + Ctrl.STEPS] = steps;
    Atomics.store(i32, base + Ctrl.DONE, 0);
    Atomics.store(i32, base + Ctrl.ABORT, 0);
    const job = Atomics.add(i32, base + Ctrl.JOB, 1) + 1;
    this.lead.keepAlive(true);
    return new Promise<void>((resolve, reject) => {
      this.waiter = { job, resolve, reject };
      Atomics.notify(i32, base + Ctrl.JOB);
    });
  }

  /** Asks the running job to skip its remaining work (it still ends with `done`). */
  abortJob(): void {
    Atomics.store(this.i32, (this.ctrl >> 2) + Ctrl.ABORT, 1);
  }

  get busy(): boolean {
    return this.waiter !== null;
  }

  private onThreadMessage(msg: { done?: number; job?: number; error?: string }): void {
    if (msg.error !== undefined) {
      this.fail(new Error(`CPU kernel failed: ${msg.error}`));
      return;
    }
    const w = this.waiter;
    if (w && msg.done === w.job) {
      this.waiter = null;
      this.lead.keepAlive(false);
      w.resolve();
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const w = this.waiter;
    this.waiter = null;
    this.lead.keepAlive(false);
    w?.reject(e);
    // A thread that failed mid-job leaves the others at a barrier: the pool cannot go on.
    this.terminate();
  }

  terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    const base = this.ctrl >> 2;
    Atomics.store(this.i32, base + Ctrl.QUIT, 1);
    Atomics.add(this.i32, base + Ctrl.JOB, 1);
    Atomics.notify(this.i32, base + Ctrl.JOB);
    for (const t of this.threads) t.terminate();
    this.waiter?.reject(new Error('CPU thread pool terminated'));
    this.waiter = null;
  }
}
