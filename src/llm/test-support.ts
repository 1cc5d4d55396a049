/** Shared by the LLM tests (Node only). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * GPU logits agree with the float64 reference within this fraction of the largest |logit| of the
 * forward (f32 accumulation over K ≤ a few hundred; measured ≈ 6e-7 on the test models).
 */
export const LOGIT_TOLERANCE = 2e-5;

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix));
