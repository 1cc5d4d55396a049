/** State of the private split mode on the "Run a model" screen (the wiring is in ./actions.ts and src/app/split-*.ts). */
import { create } from 'zustand';
import type { SplitRunResult, SplitStepView } from '../../app/split-user.ts';
import type { VolunteerStats } from '../../app/split-volunteer.ts';
import type { PrivacyChoice } from '../../split/router.ts';

export interface SplitUiState {
  privacy: PrivacyChoice;
  k: number | null;
  noise: number;
  volunteerPeerId: string;
  /** The user read the notice of what h_k protects against, this page load. */
  noticeAccepted: boolean;
  running: boolean;
  phase: string | null;
  output: string;
  steps: SplitStepView[];
  result: SplitRunResult | null;
  error: string | null;
  serving: 'off' | 'starting' | 'on';
  servingModelHash: string | null;
  served: VolunteerStats | null;
  servingError: string | null;
}

export const useSplitStore = create<SplitUiState>()(() => ({
  privacy: 'device-only',
  k: null,
  noise: 0,
  volunteerPeerId: '',
  noticeAccepted: false,
  running: false,
  phase: null,
  output: '',
  steps: [],
  result: null,
  error: null,
  serving: 'off',
  servingModelHash: null,
  served: null,
  servingError: null,
}));
