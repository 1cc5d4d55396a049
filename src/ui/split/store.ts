/** State of the private split mode on the "Run a model" screen (the wiring is in ./actions.ts and src/app/split-*.ts). */
import { create } from 'zustand';
import type { RouteMode, RoutePlan } from '../../app/split-route.ts';
import type { SplitRunResult, SplitStepView } from '../../app/split-user.ts';
import type { VolunteerStats } from '../../app/split-volunteer.ts';
import type { PrivacyChoice } from '../../split/router.ts';

export interface SplitUiState {
  privacy: PrivacyChoice;
  k: number | null;
  noise: number;
  /** The user's pick (typed, or chosen from the list); '' = the best ranked. */
  volunteerPeerId: string;
  route: RouteMode;
  /** "Fast enough": at or above this decode rate here, 'auto' runs the whole model on this device. */
  targetTokensPerSecond: number;
  /** Volunteers announcing the loaded model for the current k, as last heard. */
  listed: ListedView[];
  /** Where the last request ran, and the measured numbers behind it. */
  plan: RoutePlan | null;
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

export interface ListedView {
  readonly peerId: string;
  readonly weight: number;
  readonly reputation: number;
  /** Consistent − 2 × (inconsistent + invalid) of its sessions as this page's pool has the validators' verdicts. */
  readonly inferenceScore: number;
  readonly flags: readonly string[];
  readonly announcedTokensPerSecond: number;
  readonly ageMs: number;
}

export const useSplitStore = create<SplitUiState>()(() => ({
  privacy: 'device-only',
  k: null,
  noise: 0,
  volunteerPeerId: '',
  route: 'auto',
  targetTokensPerSecond: 10,
  listed: [],
  plan: null,
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
