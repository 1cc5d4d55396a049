import { useEffect } from 'react';
import type { SprintConfig } from '../../sprint/config.ts';
import { formatBytes } from '../../gpu/errors.ts';
import { Term } from '../help/Term.tsx';
import { BrowserAdvice } from './Advice.tsx';
import { modelFit, verdict, type CompatReport } from './compat.ts';
import { useNetworkModel } from './network-model.ts';
import { useCompatStore } from './useCompat.ts';

const LEVEL_CLASS = { good: 'ok', slow: 'warn', blocked: 'error' } as const;

function CpuFallbackNote({ report }: { report: CompatReport }) {
  if (report.kind === 'adapter' && !report.adapter.software) return null;
  return report.cpuFallback ? (
    <p>
      Sprintnet can still contribute with its CPU engine (WebAssembly on every processor core). It is far slower than a real GPU, and it keeps the processor
      busy.
    </p>
  ) : null;
}

function AdapterDetails({ report, config }: { report: Extract<CompatReport, { kind: 'adapter' }>; config: SprintConfig }) {
  const { adapter } = report;
  const fit = modelFit(report, config);
  return (
    <>
      <dl className="facts">
        <dt>Vendor</dt>
        <dd data-testid="compat-vendor">{adapter.vendor || 'not told by the browser'}</dd>
        <dt>Description</dt>
        <dd data-testid="compat-description">{adapter.description || adapter.architecture || adapter.device || 'not told by the browser'}</dd>
        <dt>
          <Term id="model">Network model</Term> needs
        </dt>
        <dd data-testid="compat-memory" data-bytes={fit.minimumBytes} data-config={config.name}>
          {formatBytes(fit.minimumBytes)} of <Term id="gpu-memory">GPU memory</Term> ({formatBytes(fit.weightBytesF16 + fit.workingBytes)} if this GPU runs
          faster with 16-bit numbers; model {config.name})
        </dd>
        <dt>Fits this GPU</dt>
        <dd data-testid="compat-fits" data-fits={fit.fits}>
          {fit.fits
            ? 'Yes, within its buffer limits. The browser does not say how much memory is free: if too little is, Start stops with a message.'
            : `No: ${fit.problem}.`}
        </dd>
      </dl>
      {adapter.software && (
        <p className="warn" data-testid="compat-software">
          <strong>
            <Term id="software-gpu">Software GPU</Term>: contributing will be very slow.
          </strong>{' '}
          {adapter.softwareName ?? 'This adapter'} is a program that imitates a graphics card on the processor. Usually the browser uses it because graphics
          acceleration is off or the real GPU is blocked; the steps below may bring the real GPU back.
        </p>
      )}
    </>
  );
}

/** The welcome screen's report on this browser and GPU; `compact` shows only the verdict and, where needed, the advice. */
export function CompatibilityReport({ compact = false }: { compact?: boolean }) {
  const report = useCompatStore((s) => s.report);
  const { config } = useNetworkModel();
  useEffect(() => {
    void useCompatStore.getState().probe();
  }, []);
  if (!report) return <p className="muted">Checking this browser and GPU…</p>;
  const v = verdict(report, config);
  if (compact && v.level === 'good') return null;
  return (
    <section
      className={`compat compat-${v.level}`}
      aria-labelledby={compact ? 'compat-title-compact' : 'compat-title'}
      data-testid={compact ? 'compat-notice' : 'compat-report'}
      data-kind={report.kind}
      data-level={v.level}
    >
      <h3 id={compact ? 'compat-title-compact' : 'compat-title'}>{compact ? 'About this browser' : 'Your browser and GPU'}</h3>
      <p className={LEVEL_CLASS[v.level]} data-testid="compat-verdict">
        {v.text}
      </p>
      {report.kind === 'adapter' && !compact && <AdapterDetails report={report} config={config} />}
      {report.kind === 'adapter' && compact && report.adapter.software && (
        <p>
          {report.adapter.label}: a <Term id="software-gpu">software GPU</Term> imitating a graphics card on the processor.
        </p>
      )}
      <CpuFallbackNote report={report} />
      {report.kind !== 'adapter' && <BrowserAdvice kind={report.kind} secureContext={report.secureContext} />}
      {report.kind === 'adapter' && report.adapter.software && !compact && <BrowserAdvice kind="software" secureContext={report.secureContext} />}
    </section>
  );
}
