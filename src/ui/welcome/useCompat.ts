import { create } from 'zustand';
import { canShareMemory } from '../../cpu/threads-browser.ts';
import { probeCompatibility, type CompatReport } from './compat.ts';

interface CompatState {
  report: CompatReport | null;
  probe(): Promise<void>;
}

let probing: Promise<void> | null = null;

/** The page's one compatibility probe, shared by the welcome and the Contribute screen. */
export const useCompatStore = create<CompatState>()((set) => ({
  report: null,
  probe() {
    probing ??= probeCompatibility((navigator as Navigator & { gpu?: GPU }).gpu, { secureContext: window.isSecureContext, cpuFallback: canShareMemory() }).then(
      (report) => set({ report }),
    );
    return probing;
  },
}));
