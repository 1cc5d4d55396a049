/**
 * One tab at a time runs the GPU: the Sprint view holds the Web Lock `sprintnet-gpu` while its
 * engine is built or searching. Another tab asking without `steal` is told no at once (it shows
 * that another tab is contributing); asking with `steal` takes the lock, and the former holder's
 * lease reports `lost` so it stops. Without navigator.locks (Node tests, old browsers) the same
 * rules hold within this JavaScript realm only.
 */
export const GPU_LOCK_NAME = 'sprintnet-gpu';

export interface GpuLease {
  /** Resolves if another tab took the lock over (steal); the holder must stop using the GPU. */
  readonly lost: Promise<void>;
  /** Gives the lock back; idempotent. */
  release(): void;
}

export interface GpuLock {
  /** The lease, or null when another holder has it and `steal` is false. */
  acquire(opts?: { steal?: boolean }): Promise<GpuLease | null>;
  /** Whether anyone (another tab, or this one) holds the lock now. */
  isHeld(): Promise<boolean>;
}

/** Web Locks: spans every tab and worker of this origin. */
export function webGpuLock(locks: LockManager, name = GPU_LOCK_NAME): GpuLock {
  return {
    acquire({ steal = false } = {}) {
      return new Promise<GpuLease | null>((resolve, reject) => {
        let release!: () => void;
        const released = new Promise<void>((r) => (release = r));
        let markLost!: () => void;
        const lost = new Promise<void>((r) => (markLost = r));
        let granted = false;
        locks
          .request(name, steal ? { steal: true } : { ifAvailable: true }, async (lock) => {
            if (!lock) return resolve(null);
            granted = true;
            resolve({ lost, release });
            await released; // held until release()
          })
          // A stolen lock rejects the holder's request with AbortError.
          .then(undefined, (e: unknown) => (granted ? markLost() : reject(e)));
      });
    },
    async isHeld() {
      const snapshot = await locks.query();
      return (snapshot.held ?? []).some((l) => l.name === name);
    },
  };
}

/** Fallback without navigator.locks: one holder per realm, same steal semantics. */
export function memoryGpuLock(): GpuLock {
  let holder: { markLost(): void } | null = null;
  return {
    async acquire({ steal = false } = {}) {
      if (holder && !steal) return null;
      holder?.markLost();
      let markLost!: () => void;
      const lost = new Promise<void>((r) => (markLost = r));
      const me = { markLost };
      holder = me;
      return {
        lost,
        release: () => {
          if (holder === me) holder = null;
        },
      };
    },
    async isHeld() {
      return holder !== null;
    },
  };
}

let shared: GpuLock | null = null;

/** The page's GPU lock: Web Locks where the browser has them. */
export function gpuLock(): GpuLock {
  const locks = globalThis.navigator?.locks;
  return (shared ??= locks ? webGpuLock(locks) : memoryGpuLock());
}
