/**
 * The kernels run on the calling thread, one thread, synchronously: for tools and tests whose
 * callers are synchronous (the attack suite, calibration) or must not yield to the event loop
 * between a request and its answer (the protocol simulation's virtual clock, src/protocol/sim).
 * A program's barriers pass at once with one thread, so the same programs run unchanged.
 */
import { Ctrl } from './layout.ts';

/** What an engine needs to run its programs: a ThreadPool (./threads.ts) or the calling thread. */
export interface Executor {
  readonly size: number;
  run(prog: number, steps: number): Promise<void>;
  abortJob(): void;
  terminate(): void;
}

export class InlineExecutor implements Executor {
  readonly size = 1;
  private readonly i32: Int32Array;
  private readonly runKernels: (ctrl: number, tid: number) => void;
  private terminated = false;

  constructor(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    private readonly ctrl: number,
  ) {
    this.i32 = new Int32Array(memory.buffer);
    Atomics.store(this.i32, (ctrl >> 2) + Ctrl.THREADS, 1);
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    this.runKernels = instance.exports.run as (ctrl: number, tid: number) => void;
  }

  runSync(prog: number, steps: number): void {
    if (this.terminated) throw new Error('CPU executor terminated');
    const base = this.ctrl >> 2;
    this.i32[base + Ctrl.PROG] = prog;
    this.i32[base + Ctrl.STEPS] = steps;
    Atomics.store(this.i32, base + Ctrl.ABORT, 0);
    this.runKernels(this.ctrl, 0);
  }

  run(prog: number, steps: number): Promise<void> {
    try {
      this.runSync(prog, steps);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Nothing runs between calls on this thread, so there is never a job to abort. */
  abortJob(): void {}

  terminate(): void {
    this.terminated = true;
  }
}
