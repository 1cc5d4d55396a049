import { useEffect, useRef, useState } from 'react';
import { storeName, useLlmStore } from './store.ts';
import { installLlmTestHandle } from './test-handle.ts';
import { runSplit } from '../split/actions.ts';
import { SplitRun, SplitSettings, SplitVolunteerSettings } from '../split/SplitPanel.tsx';
import { useLedgerStore } from '../network/ledger-store.ts';
import { useSplitStore } from '../split/store.ts';
import { installSplitTestHandle } from '../split/test-handle.ts';
import { canShareMemory } from '../../cpu/threads-browser.ts';
import './llm.css';

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;

/** "Run a model on this device": model picker, cache manager, prompt, streamed output, speed. */
export function LlmPanel() {
  const s = useLlmStore();
  const folderInput = useRef<HTMLInputElement>(null);
  const [url, setUrl] = useState('');
  const [prompt, setPrompt] = useState('Hello! Who are you?');
  const [maxTokens, setMaxTokens] = useState(48);
  const [temperature, setTemperature] = useState(0);
  const [cacheIt, setCacheIt] = useState(true);
  const split = useSplitStore();
  // The page's ledger: the Sprint runtime's, or the ledger follower's while it only serves (src/ui/network/ledger-store.ts).
  const ledgerRows = useLedgerStore((x) => x.runtime?.ledger?.rows ?? null);
  const myKey = useLedgerStore((x) => x.runtime?.publicKey ?? null);
  const mine = ledgerRows?.find((r) => r.publicKey === myKey);
  const splitting = split.privacy === 'allow-split';

  useEffect(() => {
    installLlmTestHandle();
    installSplitTestHandle();
    void s.checkCompatibility();
    void s.refreshCache();
    // Run once on mount.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    // React does not type the non-standard folder attributes.
    folderInput.current?.setAttribute('webkitdirectory', '');
    folderInput.current?.setAttribute('directory', '');
  }, []);

  const busy = s.status === 'loading' || s.status === 'generating';
  const c = s.compat;
  const p = s.progress;
  const m = s.model;
  const memoryWarning =
    m && c?.deviceMemoryGiB && m.weightBytes > 0.5 * c.deviceMemoryGiB * 2 ** 30
      ? `The model's weights (${gib(m.weightBytes)}) are more than half of this device's reported memory (${c.deviceMemoryGiB} GiB): expect it to be slow or to fail.`
      : null;

  return (
    <section className="panel llm" aria-labelledby="llm-title" data-testid="llm-panel">
      <h2 id="llm-title">Load a model</h2>
      <p className="muted">
        A Llama-family model (SmolLM2, Qwen2.5, Llama 3): a folder with config.json, tokenizer.json and *.safetensors, from your disk or a web address. It runs
        on your GPU through WebGPU (or on the processor without one); nothing leaves this browser.
      </p>

      {c?.problem && (
        <p className={canShareMemory() ? 'warn' : 'error'} data-testid="llm-compat-problem">
          {c.problem}
          {canShareMemory() && ' Models still run here, on the processor (WebAssembly), much more slowly.'}
        </p>
      )}

      {!m && s.status === 'idle' && !s.error && (
        <p className="llm-empty" data-testid="llm-empty">
          No model loaded yet. Choose a model folder, or try the built-in test model first: it answers nonsense, but shows how loading and generating work.
        </p>
      )}

      <div className="llm-pick">
        <label>
          <input type="checkbox" checked={cacheIt} onChange={(e) => setCacheIt(e.target.checked)} /> keep a copy in this browser's model cache
        </label>
        <div className="llm-row">
          <button type="button" disabled={busy} onClick={() => folderInput.current?.click()}>
            Choose a model folder…
          </button>
          <input
            ref={folderInput}
            type="file"
            multiple
            hidden
            data-testid="llm-folder-input"
            onChange={(e) => {
              const files = [...(e.target.files ?? [])];
              e.target.value = '';
              if (files.length === 0) return;
              const head = files[0] as File & { webkitRelativePath?: string };
              const first = head.webkitRelativePath || head.name;
              const id = first.includes('/') ? first.split('/')[0] : 'picked model';
              void s.load({ kind: 'files', files }, cacheIt ? id : undefined);
            }}
          />
          <button type="button" disabled={busy} data-testid="llm-load-test" onClick={() => void s.load({ kind: 'test' })}>
            Use the built-in random test model
          </button>
        </div>
        <form
          className="llm-row llm-url-row"
          onSubmit={(e) => {
            e.preventDefault();
            if (url.trim()) void s.load({ kind: 'url', url: url.trim() }, cacheIt ? url.trim() : undefined);
          }}
        >
          <label className="llm-url">
            or a model folder's address (its server must allow CORS)
            <input type="url" placeholder="https://…/model-folder/" value={url} onChange={(e) => setUrl(e.target.value)} />
          </label>
          <button type="submit" disabled={busy || !url.trim()}>
            Load from URL
          </button>
        </form>
      </div>

      {c === null && <p className="muted">Checking WebGPU…</p>}
      {c && !c.problem && (
        <dl data-testid="llm-compat" aria-label="This device's GPU">
          <dt>GPU</dt>
          <dd className="mono">{c.adapter}</dd>
          <dt>Largest buffer</dt>
          <dd>
            {c.maxBufferBytes !== null ? gib(c.maxBufferBytes) : '?'} (binding {c.maxBindingBytes !== null ? gib(c.maxBindingBytes) : '?'}; larger tensors are
            split)
          </dd>
          <dt>shader-f16</dt>
          <dd>{c.shaderF16 ? 'available' : 'not available'} — not needed: f16/bf16 weights are widened to f32 inside the shaders</dd>
          <dt>Device memory</dt>
          <dd>{c.deviceMemoryGiB !== null ? `${c.deviceMemoryGiB} GiB (as the browser reports it)` : 'not reported by this browser'}</dd>
        </dl>
      )}

      {s.status === 'loading' && (
        <div data-testid="llm-progress">
          <progress value={p?.loadedBytes ?? 0} max={p?.totalBytes ?? undefined} aria-label="Loading the model" />
          <p className="muted">
            {p
              ? `${mib(p.loadedBytes)}${p.totalBytes ? ` of ${mib(p.totalBytes)}` : ''} · ${(p.bytesPerSecond / 2 ** 20).toFixed(1)} MiB/s${p.etaMs !== null ? ` · about ${Math.ceil(p.etaMs / 1000)} s left` : ''} · ${p.file}`
              : 'Reading config and tokenizer…'}{' '}
            <button type="button" onClick={() => void s.cancelLoad()}>
              Cancel
            </button>
          </p>
        </div>
      )}
      {s.error && (
        <p className="error" data-testid="llm-error">
          {s.error}
        </p>
      )}
      {s.notice && (
        <p className="muted" data-testid="llm-notice">
          {s.notice}
        </p>
      )}

      {m && (
        <div data-testid="llm-model">
          {m.isTestModel && (
            <p className="llm-test-banner" data-testid="llm-test-banner">
              This is the random test model: its weights are random numbers, so its output is nonsense. It exists to show that loading, tokenizing and
              generating work offline.
            </p>
          )}
          <dl>
            <dt>Loaded</dt>
            <dd data-testid="llm-model-label">{m.label}</dd>
            <dt>Shape</dt>
            <dd>
              {m.modelType}, {m.layers} layers, hidden {m.hiddenSize}, vocabulary {m.vocabSize}, {mib(m.weightBytes)} of weights
            </dd>
            <dt>Ran on</dt>
            <dd className="mono">
              {m.adapter}
              {m.isFallbackAdapter ? ' (a CPU implementation of WebGPU: slow)' : ''}
            </dd>
            <dt>Why there</dt>
            <dd data-testid="llm-backend" data-backend={m.backend}>
              {m.backendReason} (change it in Settings)
            </dd>
            <dt>Load time</dt>
            <dd data-testid="llm-load-ms">{(m.loadMs / 1000).toFixed(1)} s</dd>
          </dl>
          {memoryWarning && <p className="error">{memoryWarning}</p>}
        </div>
      )}

      {m && <SplitSettings layers={m.layers} />}

      <h3>Prompt</h3>
      <form
        className="llm-prompt"
        onSubmit={(e) => {
          e.preventDefault();
          const options = { maxTokens, temperature, topP: 0.95, useChatTemplate: true };
          // "On this device only" never reaches the split path: the local engine runs the whole model.
          if (splitting) void runSplit(prompt, options);
          else void s.generate(prompt, options);
        }}
      >
        <textarea rows={3} value={prompt} onChange={(e) => setPrompt(e.target.value)} aria-label="prompt" data-testid="llm-prompt" />
        <div className="llm-row">
          <label>
            max tokens{' '}
            <input
              type="number"
              min={1}
              max={1024}
              value={maxTokens}
              onChange={(e) => setMaxTokens(Number(e.target.value) || 1)}
              data-testid="llm-max-tokens"
            />
          </label>
          <label>
            temperature <input type="number" min={0} max={2} step={0.1} value={temperature} onChange={(e) => setTemperature(Number(e.target.value) || 0)} />
          </label>
          <button type="submit" disabled={s.status !== 'ready' || (splitting && (split.running || !split.noticeAccepted))} data-testid="llm-generate">
            Generate
          </button>
          <button type="button" disabled={s.status !== 'generating'} onClick={() => void s.stop()} data-testid="llm-stop">
            Stop
          </button>
        </div>
      </form>
      {!splitting && (
        <pre className="llm-output" data-testid="llm-output" aria-live="polite">
          {s.output}
        </pre>
      )}
      <SplitRun />
      <p className="muted" data-testid="llm-stats">
        {s.status === 'generating' && `${s.liveTokens} tokens · ${s.liveTokensPerSecond.toFixed(1)} tokens/s`}
        {s.status !== 'generating' &&
          s.stats &&
          `${s.stats.tokens} tokens (${s.stats.stoppedBy}) · ${s.stats.decodeTokensPerSecond.toFixed(1)} tokens/s · first token after ${s.stats.ttftMs.toFixed(0)} ms · prompt ${s.stats.promptTokens} tokens at ${s.stats.prefillTokensPerSecond.toFixed(1)} tokens/s`}
      </p>

      {m && <SplitVolunteerSettings cu={mine ? { inferenceCu: mine.inferenceCuTotal, sessions: mine.inferenceSessions } : null} />}

      <h3>Model cache</h3>
      {s.cacheUsage && (
        <p className="muted">
          This site uses {mib(s.cacheUsage.usage)} of {gib(s.cacheUsage.quota)} the browser allows.
        </p>
      )}
      {s.cached.length === 0 ? (
        <p className="muted" data-testid="llm-cache-empty">
          No models cached.
        </p>
      ) : (
        <ul className="llm-cache" data-testid="llm-cache">
          {s.cached.map((entry) => (
            <li key={`${entry.store}:${entry.id}`} data-testid="llm-cache-entry" data-store={entry.store ?? 'cache-api'}>
              <span className="mono">{entry.id}</span> · {mib(entry.bytes)} · {storeName(entry.store)}
              {entry.isTestModel ? ' · random test model' : ''} · saved {new Date(entry.savedAt).toLocaleString()}{' '}
              <button
                type="button"
                disabled={busy}
                onClick={() => void s.load({ kind: 'cache', id: entry.id, store: entry.store ?? 'cache-api' })}
                data-testid="llm-cache-load"
              >
                Load
              </button>{' '}
              <button type="button" disabled={busy} onClick={() => void s.deleteCached(entry.id, entry.store ?? 'cache-api')} data-testid="llm-cache-delete">
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
