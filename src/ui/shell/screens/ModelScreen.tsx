import { LlmPanel } from '../../llm/LlmPanel.tsx';

/** Hosts "Run a model on this device" unchanged. */
export function ModelScreen() {
  return (
    <>
      <p className="muted">Run an open language model on your own GPU. Your prompt and its answer stay on this device.</p>
      <LlmPanel />
    </>
  );
}
