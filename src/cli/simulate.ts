/**
 * `sprintnet simulate`: the Sprint protocol over an in-memory network (src/protocol/sim).
 *
 *   simulate --config tiny --hosts N --cheaters forged,copier,… --epochs E --seed S [--json]
 *       N honest hosts plus one host per cheater kind, real keys, signatures and BLS lottery, the
 *       CPU reference as every host's engine. Per epoch and host: state hash, weight, fraud flag,
 *       CU credited, certificate status, weight per nonce evaluated.
 *   simulate --scale 10,100,1000 [--full-limit 100] [--epochs 2] [--json]
 *       The protocol at scale with a MODELLED oracle engine and MODELLED signatures (labelled in
 *       the output): bytes per peer, messages handled, time to certificate. Sizes up to
 *       --full-limit run every host; all sizes also get the model's figures.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { defineOptions, parseCommandArgs, parseInteger, parseList } from './args.ts';
import { getConfig } from '../sprint/config.ts';
import { SprintInputError } from '../sprint/errors.ts';
import { lotterySign, lotteryVerify, makeKeyBinding } from '../wallet/lottery.ts';
import { MessageType, signTyped, verifyTyped } from '../wallet/signing.ts';
import { CHEATER_KINDS, simulate, type CheaterKind, type SimReport } from '../protocol/sim/simulate.ts';
import { runScaleSim, scaleModel, type ScaleRow } from '../protocol/sim/scale.ts';
import { REPUTATION_MAX } from '../protocol/constants.ts';

export const options = defineOptions({
  config: { type: 'string', value: 'NAME', default: 'tiny', help: 'the model; the CPU-reference simulation runs tiny only' },
  hosts: { type: 'string', value: 'N', default: '5', help: 'honest hosts' },
  cheaters: { type: 'string', value: 'KIND,…', default: '', help: `one extra host per cheater named (a kind may repeat): ${CHEATER_KINDS.join(', ')}` },
  epochs: { type: 'string', value: 'E', default: '3', help: 'epochs to run' },
  seed: { type: 'string', value: 'S', default: '1', help: 'seed of the simulated network (a whole number)' },
  nonces: { type: 'string', value: 'N', default: '64', help: 'nonces each host searches per Sprint' },
  p: { type: 'string', value: 'D', default: '8', help: 'hit rate 1/D of the simulated task' },
  scale: { type: 'string', value: 'N,N,…', help: 'run at these network sizes with a MODELLED engine and signatures instead' },
  'full-limit': { type: 'string', value: 'N', default: '100', help: 'with --scale: sizes up to N run every host, larger ones only the model' },
  claims: { type: 'string', value: 'N', default: '50', help: 'with --scale: finds each host claims per epoch' },
  json: { type: 'boolean', help: 'print the report as JSON' },
});

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, options);
  if (args.scale !== undefined)
    return runScale(args.scale, int(args['full-limit'], '--full-limit', 0), int(args.epochs, '--epochs', 1), int(args.claims, '--claims', 1), args.json);
  const config = getConfig(args.config);
  if (config.name !== 'tiny')
    throw new SprintInputError('BAD_ARGUMENT', 'the CPU-reference simulation runs the tiny config only (canonical takes seconds per nonce on a CPU)');
  const cheaters = args.cheaters
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const c of cheaters) {
    if (!(CHEATER_KINDS as readonly string[]).includes(c))
      throw new SprintInputError('BAD_ARGUMENT', `unknown cheater '${c}' (known: ${CHEATER_KINDS.join(', ')})`);
  }
  const report = await simulate({
    config: config.name,
    honest: int(args.hosts, '--hosts', 1),
    cheaters: cheaters as CheaterKind[],
    epochs: int(args.epochs, '--epochs', 1),
    seed: int(args.seed, '--seed', 0),
    noncesPerSprint: int(args.nonces, '--nonces', 1),
    hitRateDenominator: int(args.p, '--p', 2),
  });
  process.stdout.write(args.json ? JSON.stringify(report, null, 1) + '\n' : table(report));
  return 0;
}

const int = (text: string, flag: string, min: number): number => parseInteger(text, flag, { min });

function table(r: SimReport): string {
  const lines = [
    `simulation: ${r.simulation}, config ${r.config}, p = 1/${Math.round(1 / r.hitRate)}, ${r.noncesPerSprint} nonces per host per Sprint, seed ${r.seed}, ${(r.wallMs / 1000).toFixed(1)} s`,
  ];
  for (const e of r.epochs) {
    lines.push(
      '',
      `epoch ${e.epoch}: seed ${e.seed?.slice(0, 16)}…  ${e.agreed ? 'all hosts agree' : `${e.distinctHashes} distinct state hashes`}, ${e.certified ? 'certified' : 'NOT certified'}`,
    );
    lines.push('  host               state hash        cert       weight  claimed  accepted  flags                 CU credited   evaluated  weight/evaluated');
    for (const h of e.hosts) {
      lines.push(
        `  ${h.name.padEnd(18)} ${(h.stateHash ?? '-').slice(0, 16).padEnd(17)} ${h.certificate.padEnd(10)} ${String(h.weight).padStart(6)}  ${String(h.claimed).padStart(7)}  ${String(h.accepted).padStart(8)}  ${(h.flags.join(',') || '-').padEnd(20)}  ${h.cuEpoch.toExponential(3).padStart(11)}  ${String(h.evaluated).padStart(9)}  ${h.weightPerEvaluated === null ? '-' : h.weightPerEvaluated.toFixed(4)}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

/** Per-operation CPU costs of the real primitives on this machine (ms), for the CPU estimate. */
function measureCrypto() {
  const seed = new Uint8Array(32).fill(7);
  const bls = new Uint8Array(32).fill(9);
  const binding = makeKeyBinding(seed, bls, 'bench');
  const domain = { type: MessageType.ValidationVote, networkId: 'bench' } as const;
  const payload = new Uint8Array(100);
  const time = (n: number, f: () => unknown) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) f();
    return (performance.now() - t) / n;
  };
  const sig = signTyped(seed, domain, payload);
  const lot = lotterySign(bls, binding.ed25519PublicKey, domain, payload);
  const pk = ed25519.getPublicKey(seed);
  return {
    ed25519VerifyMs: time(40, () => verifyTyped(pk, domain, payload, sig)),
    blsLotteryVerifyMs: time(4, () => lotteryVerify(binding.blsPublicKey, binding.ed25519PublicKey, domain, payload, lot)),
  };
}

async function runScale(list: string, fullLimit: number, epochs: number, claims: number, json: boolean): Promise<number> {
  const sizes = parseList(list, '--scale', (s) => int(s, 'each size in --scale', 2));
  const rows: ScaleRow[] = [];
  for (const n of sizes) {
    if (n <= fullLimit) rows.push(...(await runScaleSim({ hosts: n, epochs, claims })));
    rows.push(scaleModel(n, 0, claims), scaleModel(n, REPUTATION_MAX, claims));
  }
  const cpu = measureCrypto();
  // Per peer and epoch: verify every message (5 per host) and every validator's lottery once.
  const cpuPerPeer = (n: number) => ({ hosts: n, signatureSeconds: (5 * n * cpu.ed25519VerifyMs) / 1000, lotterySeconds: (n * cpu.blsLotteryVerifyMs) / 1000 });
  const out = {
    note: 'MODELLED: oracle engine and hash signatures stand in for the GPU and for Ed25519/BLS; sizes, selection, ledger, sync and certificates are the real code. "model" rows are computed from real message sizes; sent bytes assume gossipsub with mesh degree 6.',
    claimsPerHost: claims,
    rows,
    measuredCrypto: cpu,
    cpuPerPeerPerEpoch: sizes.map(cpuPerPeer),
  };
  if (json) {
    process.stdout.write(JSON.stringify(out, null, 1) + '\n');
    return 0;
  }
  const lines = [
    out.note,
    '',
    ' hosts  epoch  source     q      messages  gossip KiB  sent KiB/peer  rpc KiB/peer  handled/peer  largest B  cert ms (median/max)',
  ];
  for (const r of rows) {
    lines.push(
      ` ${String(r.hosts).padStart(5)}  ${r.source === 'model' ? (r.epoch === 0 ? 'new' : 'steady') : String(r.epoch).padStart(5)}  ${r.source === 'model' ? 'model    ' : 'simulated'}  ${r.checkRate.toFixed(3)}  ${String(r.messages).padStart(8)}  ${(r.gossipBytes / 1024).toFixed(1).padStart(10)}  ${(r.sentBytesPerPeer / 1024).toFixed(1).padStart(13)}  ${(r.rpcBytesPerPeer / 1024).toFixed(1).padStart(12)}  ${r.handledPerPeer.toFixed(0).padStart(12)}  ${String(r.largestMessage).padStart(9)}  ${r.certificateMs ? `${r.certificateMs.median}/${r.certificateMs.max}` : '-'}`,
    );
  }
  lines.push(
    '',
    `measured on this machine: Ed25519 strict verify ${cpu.ed25519VerifyMs.toFixed(2)} ms, BLS lottery verify ${cpu.blsLotteryVerifyMs.toFixed(1)} ms`,
  );
  for (const c of out.cpuPerPeerPerEpoch)
    lines.push(
      `  ${c.hosts} hosts: ${c.signatureSeconds.toFixed(1)} s of signature checks + ${c.lotterySeconds.toFixed(1)} s of lottery checks per peer per epoch`,
    );
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
