import { describe, expect, it, vi } from 'vitest';
import { main } from './main.ts';
import { tempDir } from '../llm/test-support.ts';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

describe('bin/sprintnet make-test-model and infer', () => {
  it('writes a model folder and generates from it with --json', async () => {
    const dir = join(tempDir('sprintnet-cli-'), 'model');
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    try {
      expect(
        await main([
          'make-test-model',
          '--out',
          dir,
          '--layers',
          '2',
          '--hidden',
          '32',
          '--heads',
          '4',
          '--kv-heads',
          '2',
          '--vocab',
          '300',
          '--dtype',
          'f16',
          '--shards',
          '2',
        ]),
      ).toBe(0);
      expect(readdirSync(dir).sort()).toEqual([
        'config.json',
        'generation_config.json',
        'model-00001-of-00002.safetensors',
        'model-00002-of-00002.safetensors',
        'model.safetensors.index.json',
        'tokenizer.json',
        'tokenizer_config.json',
      ]);
      out.length = 0;
      expect(await main(['infer', '--model', dir, '--prompt', 'Hello', '--max-tokens', '5', '--json'])).toBe(0);
    } finally {
      write.mockRestore();
    }
    const result = JSON.parse(out.join(''));
    expect(result.test_model).toBe(true);
    expect(result.chat_template).toBe(true);
    expect(result.tokens.length).toBeGreaterThan(0);
    expect(result.tokens.length).toBeLessThanOrEqual(5);
    expect(['max-tokens', 'eos']).toContain(result.stopped_by);
    expect(result.decode_tokens_per_s).toBeGreaterThanOrEqual(0);
  });
});
