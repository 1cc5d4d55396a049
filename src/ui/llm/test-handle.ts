/**
 * `window.__sprintnetLlm`: a handle for end-to-end tests, installed only when the page URL has
 * `?llm-test` (never in normal use). `logits` loads the given model files into a fresh LLM Worker
 * (the same path as a picked folder) and returns the logits of every position of `tokens`.
 */
import { LlmClient } from '../../llm/worker-client.ts';

export interface LlmTestHandle {
  logits(files: Record<string, number[]>, tokens: number[]): Promise<{ logits: number[]; adapter: string }>;
}

declare global {
  interface Window {
    __sprintnetLlm?: LlmTestHandle;
  }
}

export function installLlmTestHandle(): void {
  if (typeof window === 'undefined' || !new URLSearchParams(window.location.search).has('llm-test')) return;
  window.__sprintnetLlm = {
    async logits(files, tokens) {
      const client = new LlmClient();
      try {
        const picked = Object.entries(files).map(([name, bytes]) => new File([Uint8Array.from(bytes)], name));
        const info = await client.load({ origin: { kind: 'files', files: picked } });
        return { logits: Array.from(await client.logitsForTesting(tokens)), adapter: info.adapter };
      } finally {
        client.terminate();
      }
    },
  };
}
