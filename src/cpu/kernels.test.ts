/**
 * The committed kernels (src/cpu/kernels.wasm.ts) are exactly what assembly/cpu/build.mjs makes
 * from assembly/cpu/*.ts with the pinned AssemblyScript, and their static data stays below the
 * engine's first allocation.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { kernelBytes, STATIC_BYTES } from './layout.ts';
import { SPEC_TOLERANCE } from './test-support.ts';
import { at } from '../sprint/indexing.ts';

const run = promisify(execFile);

/** End of the active data segments (offset + size), parsed from the binary. */
function dataEnd(wasm: Uint8Array): number {
  let p = 8;
  const leb = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = at(wasm, p++, 'byte of a LEB128 number');
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) return v;
    }
  };
  let end = 0;
  while (p < wasm.length) {
    const id = wasm[p++];
    const size = leb();
    const next = p + size;
    if (id === 11) {
      const count = leb();
      for (let i = 0; i < count; i++) {
        const flags = leb();
        if (flags !== 0) throw new Error(`data segment flags ${flags} not expected`);
        if (wasm[p++] !== 0x41) throw new Error('data segment offset is not i32.const');
        const offset = leb();
        if (wasm[p++] !== 0x0b) throw new Error('data segment offset expression too long');
        const len = leb();
        end = Math.max(end, offset + len);
        p += len;
      }
    }
    p = next;
  }
  return end;
}

describe('CPU kernels (WebAssembly)', () => {
  it('validate, and keep their static data below the first allocation', () => {
    const wasm = kernelBytes();
    expect(WebAssembly.validate(wasm as BufferSource)).toBe(true);
    for (const bytes of [wasm, kernelBytes('relaxed-simd')]) {
      expect(dataEnd(bytes)).toBeGreaterThan(0);
      expect(dataEnd(bytes)).toBeLessThanOrEqual(STATIC_BYTES);
    }
  });

  it('the relaxed-SIMD build (fused multiply-add) agrees with the reference too', async () => {
    // Node 20 has relaxed SIMD behind a flag; later Node versions ship it.
    const flag = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-wasm-relaxed-simd'] : [];
    const { stdout } = await run(process.execPath, [...flag, '--import', 'tsx', 'src/cpu/relaxed-agreement.ts'], { timeout: 60_000 });
    const r = JSON.parse(stdout.trim());
    expect(r).toMatchObject({ available: 'relaxed-simd', kernels: 'relaxed-simd', nonces: 512, flagMismatches: 0 });
    expect(r.appropriate).toBeGreaterThan(0);
    expect(r.worst).toBeLessThanOrEqual(SPEC_TOLERANCE);
    expect(r.worst).toBeLessThan(1e-6);
  }, 90_000);

  it('are reproducible: a rebuild from assembly/cpu gives the committed bytes', async () => {
    const { stdout } = await run(process.execPath, ['assembly/cpu/build.mjs', '--check'], { timeout: 60_000 });
    expect(stdout).toContain('up to date');
  }, 90_000);
});
