/**
 * The fuzzing harness behind `npm run fuzz` and src/fuzz/fuzz.test.ts: runs a target's fast-check
 * arbitrary through its `run`, and counts what happened to each input. An input is
 *  - accepted: the code under test took it (decoded, verified, answered);
 *  - a typed rejection: it was refused with one of the project's own error classes (or a verdict
 *    that says why);
 *  - an untyped error: anything else thrown (a bug: callers cannot tell it from a crash), or a
 *    broken invariant the target checks (a leak, a hang).
 * The property never fails, so every input runs; the first few untyped errors are kept with
 * their input.
 */
import fc from 'fast-check';
import { DecodeError } from '../codec/binary.ts';
import { RequestError } from '../node/errors.ts';
import { DecryptError } from '../node/sealed-box.ts';
import { ProtocolError as SprintProtocolError } from '../protocol/errors.ts';
import { WalletError } from '../wallet/errors.ts';
import { at } from '../sprint/indexing.ts';

/** The project's error classes for hostile input (subclasses included). */
export const TYPED_ERRORS = [DecodeError, DecryptError, RequestError, WalletError, SprintProtocolError] as const;

export function isTyped(e: unknown): boolean {
  return TYPED_ERRORS.some((C) => e instanceof C);
}

/** Thrown by a target when an invariant breaks (not a typed rejection, whatever its message). */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

/** 'rejected' may say why (a verdict's reason), for the report's breakdown. */
export type Outcome = 'accepted' | 'rejected' | { rejected: string };

export interface FuzzTarget<T> {
  name: string;
  /** What is fuzzed, for the report. */
  covers: string;
  /** Builds the arbitrary (and any keys or valid samples it mutates); may take a moment. */
  setup(): Promise<{ arbitrary: fc.Arbitrary<T>; run(input: T): Outcome | Promise<Outcome>; describe?(input: T): string }>;
}

export interface UntypedExample {
  error: string;
  input: string;
}

export interface TargetReport {
  target: string;
  covers: string;
  inputs: number;
  accepted: number;
  typedRejections: number;
  untypedErrors: number;
  slowestMs: number;
  slowestInput: string;
  totalMs: number;
  /** Typed rejections by error class (or verdict reason). */
  rejections: Record<string, number>;
  seed: number;
  examples: UntypedExample[];
}

export function hex(bytes: Uint8Array, max = 96): string {
  let s = '';
  for (const b of bytes.subarray(0, max)) s += b.toString(16).padStart(2, '0');
  return bytes.length > max ? `${s}… (${bytes.length} bytes)` : s;
}

function defaultDescribe(input: unknown): string {
  if (input instanceof Uint8Array) return hex(input);
  const text = fc.stringify(input).replace(/Uint8Array\.from\(\[([^\]]*)\]\)/g, (_m, list: string) => {
    const bytes = Uint8Array.from(list.split(',').filter(Boolean).map(Number));
    return `0x${hex(bytes, 48)}`;
  });
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}

/** A description that never throws (inputs can be anything a target generates). */
function safeDescribe<T>(describe: (input: T) => string, input: T): string {
  try {
    return describe(input);
  } catch (e) {
    return `(input not describable: ${e instanceof Error ? e.message : String(e)})`;
  }
}

export async function runTarget<T>(target: FuzzTarget<T>, options: { runs: number; seed?: number }): Promise<TargetReport> {
  const seed = options.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const { arbitrary, run, describe = defaultDescribe } = await target.setup();
  const report: TargetReport = {
    target: target.name,
    covers: target.covers,
    inputs: 0,
    accepted: 0,
    typedRejections: 0,
    untypedErrors: 0,
    slowestMs: 0,
    slowestInput: '',
    totalMs: 0,
    rejections: {},
    seed,
    examples: [],
  };
  const started = performance.now();
  const record = (input: T, ms: number, outcome: Outcome | undefined, error: unknown) => {
    report.inputs++;
    if (ms > report.slowestMs) {
      report.slowestMs = ms;
      report.slowestInput = safeDescribe(describe, input);
    }
    const rejected = (why: string) => {
      report.typedRejections++;
      report.rejections[why] = (report.rejections[why] ?? 0) + 1;
    };
    if (error === undefined) {
      if (outcome === 'accepted') report.accepted++;
      else rejected(typeof outcome === 'object' ? outcome.rejected : 'rejected');
    } else if (isTyped(error)) {
      rejected((error as Error).name);
    } else {
      report.untypedErrors++;
      if (report.examples.length < 5) {
        const e = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        report.examples.push({ error: e, input: safeDescribe(describe, input) });
      }
    }
  };
  const once = async (input: T) => {
    const t0 = performance.now();
    let outcome: Outcome | undefined;
    let error: unknown;
    try {
      outcome = await run(input);
    } catch (e) {
      error = e ?? new Error('undefined thrown');
    }
    record(input, performance.now() - t0, outcome, error);
    return true;
  };
  await fc.assert(fc.asyncProperty(arbitrary, once), { numRuns: options.runs, seed, endOnFailure: true });
  report.totalMs = performance.now() - started;
  return report;
}

// ---- mutation arbitraries shared by the byte-level targets ----

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'copy'; from: number; to: number; count: number };

/** Values that make length fields lie: zero, one, powers of two, all ones, sign bits. */
export const INTERESTING_U32 = [
  0, 1, 2, 3, 4, 16, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 1023, 1024, 4096, 16_376, 16_384, 65_535, 65_536, 0x7fffffff, 0x80000000, 0xfffffffe,
  0xffffffff,
];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(0, 1, 0x7f, 0x80, 0xff), fc.nat({ max: 255 })) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(...INTERESTING_U32), fc.nat({ max: 0xffffffff })) }),
  fc.record({ kind: fc.constant('copy' as const), from: fc.nat(), to: fc.nat(), count: fc.integer({ min: 1, max: 64 }) }),
);

export function applyMutations(base: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = base.slice();
  for (const m of mutations) {
    const n = b.length;
    switch (m.kind) {
      case 'flip':
        if (n) b[m.at % n]! ^= 1 << m.bit; // m.at % n < n = b.length
        break;
      case 'set':
        if (n) b[m.at % n] = m.value;
        break;
      case 'insert': {
        const at = m.at % (n + 1);
        const out = new Uint8Array(n + m.bytes.length);
        out.set(b.subarray(0, at));
        out.set(m.bytes, at);
        out.set(b.subarray(at), at + m.bytes.length);
        b = out;
        break;
      }
      case 'delete': {
        if (!n) break;
        const at = m.at % n;
        const out = new Uint8Array(n - Math.min(m.count, n - at));
        out.set(b.subarray(0, at));
        out.set(b.subarray(at + m.count), at);
        b = out;
        break;
      }
      case 'truncate':
        b = b.slice(0, m.keep % (n + 1));
        break;
      case 'u32':
        if (n >= 4) new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(m.at % (n - 3), m.value >>> 0, true);
        break;
      case 'copy': {
        if (!n) break;
        const from = m.from % n;
        const chunk = b.slice(from, from + m.count);
        const to = m.to % n;
        b.set(chunk.subarray(0, n - to), to);
        break;
      }
    }
  }
  return b;
}

/**
 * Mostly valid samples with 0–`maxMutations` structural mutations, plus some splices of two samples
 * and some random bytes, so decoders see both deep and shallow damage.
 */
export function mutatedBytes(samples: Uint8Array[], options: { maxMutations?: number; maxRandomLength?: number } = {}): fc.Arbitrary<Uint8Array> {
  const { maxMutations = 4, maxRandomLength = 256 } = options;
  const pick = fc.nat({ max: samples.length - 1 }).map((i) => at(samples, i, 'sample'));
  return fc.oneof(
    { weight: 2, arbitrary: pick },
    { weight: 12, arbitrary: fc.tuple(pick, fc.array(mutation, { minLength: 1, maxLength: maxMutations })).map(([s, ms]) => applyMutations(s, ms)) },
    {
      weight: 2,
      arbitrary: fc.tuple(pick, pick, fc.nat(), fc.nat()).map(([a, b, i, j]) => {
        const cut = i % (a.length + 1);
        const from = j % (b.length + 1);
        const out = new Uint8Array(cut + b.length - from);
        out.set(a.subarray(0, cut));
        out.set(b.subarray(from), cut);
        return out;
      }),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: maxRandomLength }) },
  );
}
