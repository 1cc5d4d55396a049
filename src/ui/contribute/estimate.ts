/**
 * The earnings estimate of the Contribute screen, with the ledger's own rule (docs/protocol.md):
 * credited FLOPs = accepted × (1/p) × FLOPs per nonce, in CU of 10^15. Before validation the
 * accepted count is not known, so the estimate counts every find as accepted.
 */
import { flopsToCu } from '../../protocol/ledger.ts';
import { flopsPerNonce, type SprintConfig } from '../../sprint/config.ts';

export function cuFor(accepted: number, config: SprintConfig, hitRateDenominator: number): number {
  if (!Number.isSafeInteger(accepted) || accepted < 0) throw new RangeError(`accepted must be a whole number of finds, got ${accepted}`);
  if (!Number.isSafeInteger(hitRateDenominator) || hitRateDenominator < 2)
    throw new RangeError(`hit-rate denominator must be a whole number of at least 2, got ${hitRateDenominator}`);
  return flopsToCu(BigInt(accepted) * BigInt(hitRateDenominator) * BigInt(flopsPerNonce(config)));
}

export interface EpochEstimate {
  /** Weight this epoch if every find is accepted (weight = accepted finds). */
  readonly weight: number;
  readonly cu: number;
}

export const estimateEpoch = (found: number, config: SprintConfig, hitRateDenominator: number): EpochEstimate => ({
  weight: found,
  cu: cuFor(found, config, hitRateDenominator),
});

/** CU with enough digits to see it grow: 0.0044, 0.44, 12.3, 1,234. */
export function formatCu(cu: number): string {
  if (cu === 0) return '0';
  if (cu >= 100) return Math.round(cu).toLocaleString('en-US');
  return cu >= 1 ? cu.toFixed(1) : cu.toPrecision(2);
}
