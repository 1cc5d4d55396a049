/**
 * The record a split session keeps on both ends, step by step: the user and the volunteer each
 * build the receipt from their own transcript, and the user refuses a receipt that differs from
 * its own bytes (RECEIPT_MISMATCH), so both ends must record, rewind and encode it the same way.
 */
import type { LlamaConfig } from '../llm/config.ts';
import type { Phase, Precision } from './codec.ts';
import { hkLeaf, outputLeaf, root } from './digest.ts';
import { SplitError } from './errors.ts';
import { flopsForStep } from './flops.ts';
import { encodeReceipt, type Receipt, type StepRecord } from './proof.ts';

export interface AcceptedStep {
  readonly step: number;
  readonly position: number;
  readonly count: number;
  readonly phase: Phase;
  readonly precision: Precision;
  /** h_k as sent (wire encoding). */
  readonly hkWire: Uint8Array;
  /** Logits as returned (wire encoding). */
  readonly logitsWire: Uint8Array;
  readonly cost: number;
  readonly entropy: number;
}

/** The receipt fields a transcript does not hold. */
export type ReceiptHeader = Pick<Receipt, 'sessionId' | 'modelHash' | 'user' | 'volunteer' | 'genesis' | 'openedAtMs'>;

export class SessionTranscript {
  readonly steps: StepRecord[] = [];
  readonly hkLeaves: Uint8Array[] = [];
  readonly outLeaves: Uint8Array[] = [];
  /** h_k and logits of each accepted step as sent: the evidence validators re-run. */
  readonly hkWire: Uint8Array[] = [];
  readonly logitsWire: Uint8Array[] = [];
  flops = 0n;
  /** Rewinds since the last accepted step: stamped on the next step's record. */
  private pendingRewinds = 0;

  constructor(
    private readonly config: LlamaConfig,
    readonly k: number,
  ) {}

  /** Appends an accepted step; the wire arrays are kept as given (pass copies of buffers that get reused). */
  accept(s: AcceptedStep): StepRecord {
    const record: StepRecord = {
      position: s.position,
      count: s.count,
      phase: s.phase,
      precision: s.precision,
      rewinds: this.pendingRewinds,
      cost: s.cost,
      entropy: s.entropy,
    };
    this.steps.push(record);
    this.pendingRewinds = 0;
    this.hkLeaves.push(hkLeaf(s.step, s.position, s.count, s.precision, s.hkWire));
    this.outLeaves.push(outputLeaf(s.step, s.logitsWire, s.cost, s.entropy));
    this.hkWire.push(s.hkWire);
    this.logitsWire.push(s.logitsWire);
    this.flops += flopsForStep(this.config, this.k, this.config.numLayers, s.position, s.count);
    return record;
  }

  /** Drops the last step; the next accepted one records this one's rewinds plus one. */
  rewindLast(): StepRecord {
    const dropped = this.steps.pop();
    if (!dropped) throw new SplitError('BAD_SESSION', 'no step to rewind');
    this.hkLeaves.pop();
    this.outLeaves.pop();
    this.hkWire.pop();
    this.logitsWire.pop();
    this.flops -= flopsForStep(this.config, this.k, this.config.numLayers, dropped.position, dropped.count);
    this.pendingRewinds = dropped.rewinds + 1;
    return dropped;
  }

  receipt(header: ReceiptHeader): Uint8Array {
    return encodeReceipt({
      ...header,
      k: this.k,
      numLayers: this.config.numLayers,
      vocab: this.config.vocabSize,
      steps: this.steps,
      hkRoot: root(this.hkLeaves),
      outputRoot: root(this.outLeaves),
      flops: this.flops,
    });
  }
}
