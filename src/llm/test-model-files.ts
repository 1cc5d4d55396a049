/** Writes the random test model (test-model.ts) as a model folder on disk (Node only). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestModel, type TestModelOptions } from './test-model.ts';

/** Writes every file of the test model into `dir` (created); returns the file names. */
export function writeTestModel(dir: string, options: TestModelOptions = {}): string[] {
  const { files } = makeTestModel(options);
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
  return [...files.keys()];
}
