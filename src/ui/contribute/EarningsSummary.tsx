/**
 * Work done this Sprint and what it may earn this epoch. Until the epoch's validations are in,
 * the weight and CU are an estimate that counts every find as accepted, and say so; the ledger's
 * credited figures replace them when the runtime passes `credited`.
 */
import type { SprintConfig } from '../../sprint/config.ts';
import { Term } from '../help/Term.tsx';
import { estimateEpoch, formatCu } from './estimate.ts';
import { formatCount, formatDuration } from './format.ts';
import './contribute.css';

export interface EarningsSummaryProps {
  readonly config: SprintConfig;
  /** p = 1 / hitRateDenominator (the genesis's difficulty). */
  readonly hitRateDenominator: number;
  readonly tried: number;
  readonly found: number;
  readonly elapsedMs: number;
  /** The ledger's figures for this epoch once it is derived; null before. */
  readonly credited?: { readonly weight: number; readonly cu: number } | null;
}

export function EarningsSummary({ config, hitRateDenominator, tried, found, elapsedMs, credited = null }: EarningsSummaryProps) {
  const estimate = estimateEpoch(found, config, hitRateDenominator);
  const finds = found === 1 ? '1 find' : `${formatCount(found)} finds`;
  return (
    <section className="earnings-summary" aria-label="Work and earnings" data-testid="earnings-summary">
      <dl>
        <dt>
          Work done this <Term id="sprint" />
        </dt>
        <dd data-testid="work-done">
          {formatCount(tried)} tries in {formatDuration(elapsedMs)}, {finds}
        </dd>
        <dt>
          <Term id="weight">Weight</Term> this <Term id="epoch">epoch</Term>
          {credited ? '' : ' (estimate)'}
        </dt>
        <dd data-testid="weight-estimate">
          {formatCount(credited ? credited.weight : estimate.weight)}
          <span className="unit-note"> · one per accepted find: your say in the next epoch</span>
        </dd>
        <dt>
          <Term id="cu">CU</Term> this epoch{credited ? '' : ' (estimate)'}
        </dt>
        <dd data-testid="cu-estimate">
          {formatCu(credited ? credited.cu : estimate.cu)} CU<span className="unit-note"> · 1 CU = 10^15 operations computed</span>
        </dd>
      </dl>
      <p className="note">
        {credited
          ? 'Credited by the ledger after other computers checked a sample of your finds.'
          : 'An estimate: it counts every find as accepted. After the Sprint, other computers check a sample of your finds, and the ledger’s figure replaces this one.'}
      </p>
    </section>
  );
}
