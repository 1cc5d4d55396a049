/**
 * Reading a model folder: config.json (+ generation_config.json), tokenizer.json (+
 * tokenizer_config.json), and the weights — model.safetensors, or the shards that
 * model.safetensors.index.json names — streamed tensor by tensor into a sink (GPU buffers, or the
 * CPU reference), with progress in bytes and an ETA. Shapes and dtypes are checked against
 * config.json when each file's header arrives, before its data.
 */
import { expectedTensors, parseConfig, type LlamaConfig } from './config.ts';
import { isFloatDType } from './dtype.ts';
import { LlmError, throwIfAborted } from './errors.ts';
import { ReferenceModel } from './reference.ts';
import { collectTensors, readSafetensors, type LoadedTensor, type SafetensorsEvent, type SafetensorsHeader } from './safetensors.ts';
import type { ModelSource } from './source.ts';
import { TEST_MODEL_MARKER } from './test-model.ts';
import { TextTokenizer } from './tokenizer.ts';

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';
export const METADATA_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;

export interface WeightFile {
  readonly name: string;
  readonly size: number | null;
}

export interface ModelManifest {
  readonly config: LlamaConfig;
  readonly rawConfig: Readonly<Record<string, unknown>>;
  readonly tokenizer: TextTokenizer | null;
  readonly weightFiles: readonly WeightFile[];
  /** Tensor → shard, from the index (null for a single file). */
  readonly weightMap: ReadonlyMap<string, string> | null;
  /** config.json carries the random test model's marker. */
  readonly isTestModel: boolean;
  /** Every file the model consists of (for caching). */
  readonly files: readonly string[];
  readonly totalWeightBytes: number | null;
}

const parseJson = (text: string, file: string): Record<string, unknown> => {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (cause) {
    throw new LlmError('BAD_CONFIG', `${file} is not a JSON object: ${String(cause)}`, { cause });
  }
};

/** Reads the small files and the list of weight files. */
export async function readManifest(source: ModelSource): Promise<ModelManifest> {
  const configText = await source.text('config.json');
  if (configText === null) throw new LlmError('MISSING_FILE', `${source.label}: no config.json (is this a model folder?)`);
  const rawConfig = parseJson(configText, 'config.json');
  const generationText = await source.text('generation_config.json');
  const config = parseConfig(rawConfig, generationText ? parseJson(generationText, 'generation_config.json') : null);
  const tokenizerText = await source.text('tokenizer.json');
  const tokenizerConfigText = await source.text('tokenizer_config.json');
  const tokenizer = tokenizerText === null ? null : TextTokenizer.fromText(tokenizerText, tokenizerConfigText);
  const files = ['config.json'];
  if (generationText !== null) files.push('generation_config.json');
  if (tokenizerText !== null) files.push('tokenizer.json');
  if (tokenizerConfigText !== null) files.push('tokenizer_config.json');

  let weightMap: Map<string, string> | null = null;
  let names: string[];
  const indexText = await source.text(INDEX_FILE);
  if (indexText !== null) {
    const index = parseJson(indexText, INDEX_FILE);
    const map = index.weight_map as Record<string, unknown> | undefined;
    if (!map || typeof map !== 'object') throw new LlmError('BAD_CONFIG', `${INDEX_FILE}: no weight_map`);
    weightMap = new Map();
    for (const [tensor, file] of Object.entries(map)) {
      if (typeof file !== 'string' || !/^[\w.-]+\.safetensors$/.test(file))
        throw new LlmError('BAD_CONFIG', `${INDEX_FILE}: bad file name ${JSON.stringify(file)} for ${tensor}`);
      weightMap.set(tensor, file);
    }
    names = [...new Set(weightMap.values())].sort();
    files.push(INDEX_FILE);
  } else {
    names = [SINGLE_FILE];
  }
  const weightFiles: WeightFile[] = [];
  for (const name of names) {
    // null for an unknown size (or a missing file: open() then says MISSING_FILE).
    weightFiles.push({ name, size: await source.size(name) });
  }
  files.push(...names);
  const known = weightFiles.every((f) => f.size !== null);
  return {
    config,
    rawConfig,
    tokenizer,
    weightFiles,
    weightMap,
    isTestModel: TEST_MODEL_MARKER in rawConfig,
    files,
    totalWeightBytes: known ? weightFiles.reduce((a, f) => a + f.size!, 0) : null,
  };
}

export interface LoadProgress {
  readonly file: string;
  readonly loadedBytes: number;
  readonly totalBytes: number | null;
  readonly elapsedMs: number;
  readonly bytesPerSecond: number;
  /** Remaining time at the rate so far (null while the total is unknown). */
  readonly etaMs: number | null;
}

export interface WeightSink {
  /** A file's header, already checked against config.json for the tensors `want` keeps. */
  header?(file: string, header: SafetensorsHeader): void | Promise<void>;
  /** Bytes of a wanted tensor (pieces 4-byte aligned, in order). */
  data(file: string, event: Extract<SafetensorsEvent, { kind: 'data' }>): void | Promise<void>;
}

export interface StreamOptions {
  readonly onProgress?: (p: LoadProgress) => void;
  readonly signal?: AbortSignal;
  /** Layers to load (default all): other layers' tensors are skipped, and so are shards holding none of the rest. */
  readonly fromLayer?: number;
  readonly toLayer?: number;
  /** Minimum time between progress reports (default 100 ms; the last one always comes). */
  readonly progressEveryMs?: number;
}

/** Streams the weights the layer range needs into `sink`; returns the tensors' dtypes. */
export async function streamWeights(source: ModelSource, manifest: ModelManifest, sink: WeightSink, options: StreamOptions = {}): Promise<Map<string, string>> {
  const c = manifest.config;
  const expected = expectedTensors(c, options.fromLayer ?? 0, options.toLayer ?? c.numLayers);
  const dtypes = new Map<string, string>();
  const files = manifest.weightFiles.filter((f) => !manifest.weightMap || [...expected.keys()].some((t) => manifest.weightMap!.get(t) === f.name));
  const total = files.every((f) => f.size !== null) ? files.reduce((a, f) => a + f.size!, 0) : null;
  const start = performance.now();
  let loaded = 0;
  let lastReport = -Infinity;
  const every = options.progressEveryMs ?? 100;
  const report = (file: string, force = false): void => {
    const now = performance.now();
    if (!options.onProgress || (!force && now - lastReport < every)) return;
    lastReport = now;
    const elapsedMs = now - start;
    const rate = elapsedMs > 0 ? (loaded / elapsedMs) * 1000 : 0;
    options.onProgress({
      file,
      loadedBytes: loaded,
      totalBytes: total,
      elapsedMs,
      bytesPerSecond: rate,
      etaMs: total !== null && rate > 0 ? ((total - loaded) / rate) * 1000 : null,
    });
  };
  for (const file of files) {
    throwIfAborted(options.signal);
    const opened = await source.open(file.name, options.signal);
    const counted = (async function* () {
      for await (const chunk of opened.chunks) {
        throwIfAborted(options.signal);
        loaded += chunk.byteLength;
        report(file.name);
        yield chunk;
      }
    })();
    for await (const event of readSafetensors(counted, { what: file.name, fileBytes: opened.size ?? file.size ?? undefined })) {
      if (event.kind === 'header') {
        for (const t of event.header.tensors) {
          const shape = expected.get(t.name);
          if (!shape) continue;
          if (manifest.weightMap && manifest.weightMap.get(t.name) !== file.name) {
            throw new LlmError('SAFETENSORS_LAYOUT', `${file.name} holds ${t.name}, which ${INDEX_FILE} puts in ${manifest.weightMap.get(t.name)}`);
          }
          if (!isFloatDType(t.dtype))
            throw new LlmError('UNSUPPORTED_DTYPE', `${file.name}: ${t.name} is ${t.dtype}; the engine reads F32, F16 and BF16 weights`);
          if (t.shape.join(',') !== shape.join(',')) {
            throw new LlmError('SHAPE_MISMATCH', `${file.name}: ${t.name} has shape [${t.shape.join(', ')}], config.json implies [${shape.join(', ')}]`);
          }
          if (dtypes.has(t.name)) throw new LlmError('SAFETENSORS_LAYOUT', `${t.name} appears in more than one file`);
          dtypes.set(t.name, t.dtype);
        }
        await sink.header?.(file.name, event.header);
      } else if (expected.has(event.tensor.name)) {
        await sink.data(file.name, event);
      }
    }
    report(file.name, true);
  }
  const missing = [...expected.keys()].filter((name) => !dtypes.has(name));
  if (missing.length > 0) {
    throw new LlmError(
      'MISSING_TENSOR',
      `${source.label}: ${missing.length} tensor(s) config.json needs are in no weight file, e.g. ${missing.slice(0, 3).join(', ')}`,
    );
  }
  return dtypes;
}

/** Loads the CPU reference (all tensors decoded to float64: small models only). */
export async function loadReference(source: ModelSource, options: StreamOptions = {}): Promise<{ model: ReferenceModel; manifest: ModelManifest }> {
  const manifest = await readManifest(source);
  const tensors = new Map<string, LoadedTensor>();
  let buffer: Uint8Array | null = null;
  await streamWeights(
    source,
    manifest,
    {
      data(_file, e) {
        if (e.offset === 0) buffer = new Uint8Array(e.tensor.end - e.tensor.begin);
        buffer!.set(e.bytes, e.offset);
        if (e.last) tensors.set(e.tensor.name, { info: e.tensor, bytes: buffer! });
      },
    },
    options,
  );
  return { model: new ReferenceModel(manifest.config, tensors), manifest };
}

export { collectTensors };
