/**
 * Embedding throughput benchmark: the engine (onnxruntime-node, fp32 and int8) against
 * sentence-transformers (PyTorch, fp32 and dynamic int8) on the same machine, model, texts and
 * thread count, in one run, plus the machine's measured fp32 GEMM ceiling through onnxruntime-node.
 *
 *   node bench/run.js embed [--threads 2] [--passages 256] [--reps 3] [--json out.json]
 *
 * Engine and PyTorch repetitions are interleaved round by round (their order alternating), so
 * background load and clock drift hit both sides alike and the same-run ratio stays meaningful.
 */
import { spawn, execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { DEFAULT_BATCH_TOKENS, Embedder, type Precision } from '../src/core/embed/embedder';
import { TextTokenizer } from '../src/core/embed/tokenize';
import { DEFAULT_MODEL_ID } from '../src/core/models/packaged';
import type { ResolvedModel } from '../src/core/models/resolvedModel';
import { resolveModel } from '../src/core/models/resolver';
import { pythonExecutable } from '../src/core/python/pythonEnv';
import { packageRoot } from '../src/core/util/paths';

interface Options {
  model: string;
  threads: number;
  passages: number;
  reps: number;
  warmup: number;
  gemmN: number;
  stBatchSize: number;
  maxBatchTokens?: number;
  maxBatchSize?: number;
  st: boolean;
  stInt8: boolean;
  datasets: string;
  json?: string;
}

/** One timed repetition of one contender. */
interface Rep {
  seconds: number;
  texts: number;
  tokens: number;
  paddedTokens: number;
}

interface Summary {
  name: string;
  precision: Precision;
  reps: Rep[];
  passagesPerSecond: { median: number; min: number; max: number };
  tokensPerSecond: number;
  gflops: number;
  gemmShare: number;
  paddingEfficiency?: number;
}

/** Max/min above this across repetitions marks the run as disturbed by other load. */
const NOISY_SPREAD = 1.15;
const NOISY_GEMM_SPREAD = 1.35;
/** Cores used by other processes (or stolen by the hypervisor) above this mark the run as disturbed. */
const NOISY_OTHER_CORES = 0.1;
const rootDir = packageRoot();
const outDir = path.join(rootDir, 'dist', 'bench');

export async function main(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  const started = Date.now();
  const loadBefore = os.loadavg();
  log(`resolving ${options.model}`);
  const model = await resolveModel(options.model, { int8: true });
  const config = readModelConfig(model.dir);

  const passages = buildPassages(model, options.passages, options.datasets);
  const textsFile = path.join(outDir, 'passages.json');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(textsFile, JSON.stringify({ texts: passages.texts }));
  log(`${passages.texts.length} passages, ${passages.tokens} tokens (mean ${passages.meanTokens.toFixed(1)}, min ${passages.minTokens}, max ${passages.maxTokens})`);

  // FLOPs per real token of a BERT-style encoder, counting only matrix products (multiply-add = 2):
  //   per layer and token: Q, K, V and output projections 4·H·H multiply-adds, feed-forward 2·H·I,
  //   attention scores Q·Kᵀ and the weighted sum of V: 2·H·T (T = the sequence's length).
  //   flops/token = 2·L·(4·H² + 2·H·I) + 2·2·L·H·T_avg
  // Embeddings, layer norms, softmax, GELU and pooling are left out (under 1% for MiniLM at T=256).
  // T_avg is the mean real sequence length; padded positions are not counted as useful work.
  const tAvg = passages.meanTokens;
  const flopsPerToken = 2 * config.layers * (4 * config.hidden * config.hidden + 2 * config.hidden * config.intermediate) + 2 * 2 * config.layers * config.hidden * tAvg;

  log(`GEMM ceiling: MatMul ${options.gemmN}³ fp32, ${options.threads} threads`);
  const gemmSquare = await gemmFile(options.gemmN, options.gemmN, options.gemmN);
  // For information, the model's own widest product: one full batch of tokens through the
  // feed-forward up-projection, with the weight prepacked at load as in the encoder.
  const ffnRows = options.maxBatchTokens ?? DEFAULT_BATCH_TOKENS;
  const gemmFfn = await gemmFile(ffnRows, config.hidden, config.intermediate, true);
  const cpuStart = sampleCpu();
  const square = await GemmBench.open(gemmSquare, options.threads);
  const ffn = await GemmBench.open(gemmFfn, options.threads);
  const gemmBefore = await square.measure();
  const ffnBefore = await ffn.measure();
  const gemmRounds: number[][] = [];

  const contenders: { name: string; precision: Precision; run: () => Promise<Rep> }[] = [];
  const embedders: Embedder[] = [];
  const warmupVectors: Partial<Record<Precision, Float32Array[]>> = {};
  for (const precision of ['fp32', 'int8'] as const) {
    log(`engine ${precision}: starting worker and warming up`);
    const embedder = await Embedder.create({
      model,
      precision,
      threads: options.threads,
      workers: 1,
      ...(options.maxBatchTokens ? { maxBatchTokens: options.maxBatchTokens } : {}),
      ...(options.maxBatchSize ? { maxBatchSize: options.maxBatchSize } : {}),
    });
    embedders.push(embedder);
    warmupVectors[precision] = await embedder.embed(passages.texts.slice(0, options.warmup), 'passage');
    contenders.push({ name: `engine ${precision}`, precision, run: () => timeEngine(embedder, passages.texts) });
  }

  let st: StProcess | undefined;
  if (options.st) {
    log(`sentence-transformers: loading${options.stInt8 ? ' (fp32 + torch dynamic int8)' : ''} and warming up`);
    st = await StProcess.start(model, textsFile, options);
    const stInfo = st.info;
    for (const precision of stInfo.precisions) {
      contenders.push({ name: `sentence-transformers ${precision}`, precision, run: async () => ({ seconds: await (st as StProcess).time(precision), texts: passages.texts.length, tokens: stInfo.tokens, paddedTokens: NaN }) });
    }
    if (stInfo.tokens !== passages.tokens) log(`note: sentence-transformers sees ${stInfo.tokens} tokens, the engine ${passages.tokens}`);
  }

  // Pairs engine fp32 with ST fp32, then int8 with int8, alternating which side goes first.
  const order = ['fp32', 'int8'].flatMap((precision) => contenders.filter((c) => c.precision === precision));
  const reps = new Map<string, Rep[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < options.reps; round += 1) {
    // The ceiling is measured in every round too, so a busy spell shows in both numbers.
    gemmRounds.push(await square.measure());
    log(`round ${round + 1}/${options.reps} GEMM ${options.gemmN}³: ${median(gemmRounds[round] as number[]).toFixed(1)} GFLOP/s`);
    const pairs = ['fp32', 'int8'].map((precision) => order.filter((c) => c.precision === precision));
    for (const pair of pairs) {
      for (const contender of round % 2 === 0 ? pair : [...pair].reverse()) {
        const rep = await contender.run();
        (reps.get(contender.name) as Rep[]).push(rep);
        log(`round ${round + 1}/${options.reps} ${contender.name}: ${(rep.texts / rep.seconds).toFixed(2)} passages/s (${rep.seconds.toFixed(2)} s)`);
      }
    }
  }
  const stCpuSeconds = st?.cpuSeconds() ?? 0;
  await st?.close();
  await Promise.all(embedders.map((embedder) => embedder.close()));

  const gemmAfter = await square.measure();
  const ffnAfter = await ffn.measure();
  await Promise.all([square.release(), ffn.release()]);
  const otherLoad = cpuStart ? otherCpuLoad(cpuStart, stCpuSeconds) : undefined;
  const gemm = { square: gemmResult(gemmSquare, gemmBefore, gemmRounds, gemmAfter), ffnShape: gemmResult(gemmFfn, ffnBefore, [], ffnAfter) };
  const gemmGflops = gemm.square.ceilingGflops;
  const summaries = order.map((c) => summarize(c.name, c.precision, reps.get(c.name) as Rep[], flopsPerToken, gemmGflops));

  const ratios = (['fp32', 'int8'] as const).flatMap((precision) => {
    const engine = reps.get(`engine ${precision}`);
    const torch = reps.get(`sentence-transformers ${precision}`);
    if (!engine || !torch) return [];
    const perRound = engine.map((rep, i) => (torch[i] as Rep).seconds / rep.seconds);
    const engineSummary = summaries.find((s) => s.name === `engine ${precision}`) as Summary;
    const torchSummary = summaries.find((s) => s.name === `sentence-transformers ${precision}`) as Summary;
    return [
      {
        precision,
        ratio: engineSummary.passagesPerSecond.median / torchSummary.passagesPerSecond.median,
        perRoundMin: Math.min(...perRound),
        perRoundMax: Math.max(...perRound),
        bestRatio: engineSummary.passagesPerSecond.max / torchSummary.passagesPerSecond.max,
      },
    ];
  });

  const engineFp32 = summaries.find((s) => s.name === 'engine fp32') as Summary;
  // The same share per round, against that round's own GEMM measurement.
  const roundShares = (reps.get('engine fp32') as Rep[]).map((rep, i) => (flopsPerToken * rep.tokens) / rep.seconds / 1e9 / median(gemmRounds[i] as number[]));
  const fp32Ratio = ratios.find((r) => r.precision === 'fp32');
  const targets = [
    { name: 'engine fp32 ≥ 1.2× sentence-transformers fp32', value: fp32Ratio ? `${fp32Ratio.ratio.toFixed(2)}×` : 'not measured', pass: fp32Ratio ? fp32Ratio.ratio >= 1.2 : undefined },
    { name: 'engine fp32 achieved ≥ 50% of GEMM FLOP/s', value: `${(engineFp32.gemmShare * 100).toFixed(1)}% (per round ${(Math.min(...roundShares) * 100).toFixed(1)}–${(Math.max(...roundShares) * 100).toFixed(1)}%)`, pass: engineFp32.gemmShare >= 0.5 },
  ];

  // A faster int8 is only a fair rival if it stays close to fp32: each side's int8 against its own
  // fp32, on the warm-up passages.
  const int8Quality = {
    engine: cosineStats(warmupVectors.fp32 ?? [], warmupVectors.int8 ?? []),
    sentenceTransformers: st?.info.int8_cosine_to_fp32 ?? undefined,
  };

  // Background load only ever slows a measurement, so a wide spread means a busy machine.
  const noise: string[] = [];
  if (otherLoad && otherLoad.otherCores > NOISY_OTHER_CORES) noise.push(`other processes kept ${otherLoad.otherCores.toFixed(2)} cores busy on average`);
  if (otherLoad && otherLoad.stealCores > NOISY_OTHER_CORES) noise.push(`the hypervisor stole ${otherLoad.stealCores.toFixed(2)} cores on average`);
  const spread = (values: number[]) => Math.max(...values) / Math.min(...values);
  // GEMM medians of 5 jitter by ±10% even on an idle 2-core VM, so only a wide spread counts.
  if (spread(gemm.square.sessionMedians) > NOISY_GEMM_SPREAD) noise.push(`GEMM medians range ${Math.min(...gemm.square.sessionMedians).toFixed(0)}–${Math.max(...gemm.square.sessionMedians).toFixed(0)} GFLOP/s`);
  for (const s of summaries) if (s.passagesPerSecond.max / s.passagesPerSecond.min > NOISY_SPREAD) noise.push(`${s.name} reps range ${s.passagesPerSecond.min.toFixed(1)}–${s.passagesPerSecond.max.toFixed(1)} passages/s`);

  const machine = {
    cpu: cpuModel(),
    cores: os.availableParallelism(),
    node: process.version,
    onnxruntimeNode: ort.env.versions.node ?? 'unknown',
    torch: st?.info.torch ?? 'not run',
    sentenceTransformers: st?.info.sentence_transformers ?? 'not run',
    loadAverageBefore: loadBefore,
    loadAverageAfter: os.loadavg(),
    otherLoad,
  };
  const report = {
    machine,
    model: { id: model.id, dir: model.dir, fp32: model.fp32.path, int8: model.int8?.path, hidden: config.hidden, intermediate: config.intermediate, layers: config.layers, maxSeqLength: model.conventions.maxSeqLength },
    settings: { ...options, engineWorkers: 1, engineMaxBatchTokens: options.maxBatchTokens ?? 'Embedder default', engineMaxBatchSize: options.maxBatchSize ?? 'Embedder default' },
    passages: { count: passages.texts.length, tokens: passages.tokens, meanTokens: passages.meanTokens, minTokens: passages.minTokens, maxTokens: passages.maxTokens },
    sentenceTransformers: st ? { torchThreads: st.info.torch_threads, quantizedEngine: st.info.quantized_engine, maxSeqLength: st.info.max_seq_length, tokens: st.info.tokens } : undefined,
    flopsPerToken,
    gemm,
    results: summaries,
    ratios,
    int8Quality,
    targets,
    noise,
    totalSeconds: (Date.now() - started) / 1000,
  };
  printReport(report);
  if (options.json) {
    fs.mkdirSync(path.dirname(path.resolve(options.json)), { recursive: true });
    fs.writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${options.json}`);
  }
}

// --- options ---------------------------------------------------------------------------------------

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: DEFAULT_MODEL_ID },
      threads: { type: 'string', default: String(os.availableParallelism()) },
      passages: { type: 'string', default: '256' },
      reps: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '64' },
      'gemm-n': { type: 'string', default: '2048' },
      'st-batch-size': { type: 'string', default: '32' },
      'max-batch-tokens': { type: 'string' },
      'max-batch-size': { type: 'string' },
      'no-st': { type: 'boolean', default: false },
      'no-st-int8': { type: 'boolean', default: false },
      datasets: { type: 'string', default: path.resolve(rootDir, '..', 'shared', 'datasets') },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('usage: node bench/run.js embed [--threads N] [--passages 256] [--reps 3] [--warmup 64] [--gemm-n 2048] [--st-batch-size 32]\n' + '                     [--max-batch-tokens N] [--max-batch-size N] [--no-st] [--no-st-int8] [--model ID|DIR] [--datasets DIR] [--json FILE]');
    process.exit(0);
  }
  const int = (name: string, value: string | undefined): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive integer (got ${value})`);
    return parsed;
  };
  return {
    model: values.model,
    threads: int('threads', values.threads),
    passages: int('passages', values.passages),
    reps: int('reps', values.reps),
    warmup: int('warmup', values.warmup),
    gemmN: int('gemm-n', values['gemm-n']),
    stBatchSize: int('st-batch-size', values['st-batch-size']),
    ...(values['max-batch-tokens'] ? { maxBatchTokens: int('max-batch-tokens', values['max-batch-tokens']) } : {}),
    ...(values['max-batch-size'] ? { maxBatchSize: int('max-batch-size', values['max-batch-size']) } : {}),
    st: !values['no-st'],
    stInt8: !values['no-st-int8'],
    datasets: values.datasets,
    ...(values.json ? { json: values.json } : {}),
  };
}

// --- passages --------------------------------------------------------------------------------------

interface Passages {
  texts: string[];
  tokens: number;
  meanTokens: number;
  minTokens: number;
  maxTokens: number;
}

/**
 * Deterministic ~max-length passages of real English: sentences of the Cranfield and MED abstracts
 * (documents alternating between the two, in file order) packed greedily until the next sentence
 * would overflow the model's limit, so passages run from ~220 to exactly maxSeqLength tokens and
 * none is truncated.
 */
function buildPassages(model: ResolvedModel, count: number, datasets: string): Passages {
  const corpora = ['cranfield', 'med'].map((name) => {
    const file = path.join(datasets, name, 'corpus.jsonl');
    if (!fs.existsSync(file)) throw new Error(`${file} is missing; pass --datasets <folder holding cranfield/ and med/>.`);
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => (JSON.parse(line) as { text: string }).text);
  });
  const documents: string[] = [];
  for (let i = 0; i < Math.max(...corpora.map((c) => c.length)); i += 1) for (const corpus of corpora) if (i < corpus.length) documents.push(corpus[i] as string);

  const maxSeq = model.conventions.maxSeqLength;
  const counter = TextTokenizer.fromModelDir(model.dir, 1_000_000);
  const specials = counter.encode('').ids.length;
  const prompt = model.conventions.passagePrompt;
  const budget = maxSeq - specials - (prompt ? counter.encode(prompt).ids.length - specials : 0);
  const bodyTokens = (text: string) => counter.encode(text).ids.length - specials;

  const texts: string[] = [];
  let current: string[] = [];
  let used = 0;
  outer: for (const document of documents) {
    for (const sentence of document.split(/(?<=\s\.)\s+/).map((s) => s.trim())) {
      if (!sentence) continue;
      const n = bodyTokens(sentence);
      if (n > budget) continue;
      if (used + n > budget) {
        texts.push(current.join(' '));
        if (texts.length === count) break outer;
        current = [];
        used = 0;
      }
      current.push(sentence);
      used += n;
    }
  }
  if (texts.length < count) throw new Error(`the corpora yield only ${texts.length} passages of ~${maxSeq} tokens`);

  const tokenizer = TextTokenizer.fromModelDir(model.dir, maxSeq);
  const lengths = texts.map((text) => tokenizer.encode(prompt + text).ids.length);
  const tokens = lengths.reduce((a, b) => a + b, 0);
  return { texts, tokens, meanTokens: tokens / texts.length, minTokens: Math.min(...lengths), maxTokens: Math.max(...lengths) };
}

function readModelConfig(dir: string): { hidden: number; intermediate: number; layers: number } {
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const pick = (...keys: string[]): number => {
    for (const key of keys) if (typeof config[key] === 'number') return config[key] as number;
    throw new Error(`config.json in ${dir} has none of ${keys.join(', ')}`);
  };
  const hidden = pick('hidden_size', 'dim', 'd_model');
  return { hidden, intermediate: pick('intermediate_size', 'hidden_dim', 'd_ff'), layers: pick('num_hidden_layers', 'n_layers', 'num_layers') };
}

// --- engine ----------------------------------------------------------------------------------------

async function timeEngine(embedder: Embedder, texts: string[]): Promise<Rep> {
  const before = { ...embedder.stats };
  const start = process.hrtime.bigint();
  await embedder.embed(texts, 'passage');
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, texts: embedder.stats.texts - before.texts, tokens: embedder.stats.tokens - before.tokens, paddedTokens: embedder.stats.paddedTokens - before.paddedTokens };
}

// --- GEMM ceiling ----------------------------------------------------------------------------------

interface GemmFile {
  path: string;
  m: number;
  k: number;
  n: number;
  /** B is a weight of the graph (prepacked by onnxruntime at load) rather than an input. */
  constB: boolean;
}

async function gemmFile(m: number, k: number, n: number, constB = false): Promise<GemmFile> {
  const file = path.join(outDir, `gemm-${m}x${k}x${n}${constB ? '-const-b' : ''}.onnx`);
  if (!fs.existsSync(file)) {
    const args = [path.join(rootDir, 'bench', 'make_gemm_onnx.py'), '--m', String(m), '--k', String(k), '--n', String(n), '--out', file, ...(constB ? ['--const-b'] : [])];
    await new Promise<void>((resolve, reject) => {
      execFile(pythonExecutable(), args, (error, _stdout, stderr) => (error ? reject(new Error(`make_gemm_onnx.py failed: ${stderr || error.message}`)) : resolve()));
    });
  }
  return { path: file, m, k, n, constB };
}

/** A MatMul session kept open for the whole run; each measurement: 2 warm-up runs, then 5 timed. */
class GemmBench {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly feeds: Record<string, ort.Tensor>,
    private readonly flops: number,
  ) {}

  static async open(gemm: GemmFile, threads: number): Promise<GemmBench> {
    const session = await ort.InferenceSession.create(gemm.path, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', logSeverityLevel: 3 });
    const feeds: Record<string, ort.Tensor> = { A: new ort.Tensor('float32', randomFloats(gemm.m * gemm.k, 1), [gemm.m, gemm.k]) };
    if (!gemm.constB) feeds.B = new ort.Tensor('float32', randomFloats(gemm.k * gemm.n, 2), [gemm.k, gemm.n]);
    return new GemmBench(session, feeds, 2 * gemm.m * gemm.k * gemm.n);
  }

  /** GFLOP/s of each timed run: 2·M·K·N floating-point operations over its wall time. */
  async measure(): Promise<number[]> {
    for (let i = 0; i < 2; i += 1) await this.session.run(this.feeds);
    const gflops: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const start = process.hrtime.bigint();
      await this.session.run(this.feeds);
      gflops.push(this.flops / (Number(process.hrtime.bigint() - start) / 1e9) / 1e9);
    }
    return gflops;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

interface GemmResult {
  m: number;
  k: number;
  n: number;
  weightB: boolean;
  gflopsBefore: number[];
  /** One list per round (the square reference only). */
  gflopsRounds: number[][];
  gflopsAfter: number[];
  /** Median of each measurement (5 runs): before, per round, after. */
  sessionMedians: number[];
  /**
   * The ceiling the shares are taken against: the best measurement's median. Background load can
   * only slow a GEMM down, so the best median of 5 is the machine's figure and the strictest reference.
   */
  ceilingGflops: number;
  /** Median of every run, for comparison. */
  medianGflops: number;
  maxGflops: number;
}

function gemmResult(gemm: GemmFile, before: number[], rounds: number[][], after: number[]): GemmResult {
  const all = [...before, ...rounds.flat(), ...after];
  const sessionMedians = [before, ...rounds, after].map(median);
  return {
    m: gemm.m,
    k: gemm.k,
    n: gemm.n,
    weightB: gemm.constB,
    gflopsBefore: before,
    gflopsRounds: rounds,
    gflopsAfter: after,
    sessionMedians,
    ceilingGflops: Math.max(...sessionMedians),
    medianGflops: median(all),
    maxGflops: Math.max(...all),
  };
}

function randomFloats(length: number, seed: number): Float32Array {
  const values = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i += 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = state / 2 ** 32 - 0.5;
  }
  return values;
}

// --- sentence-transformers -------------------------------------------------------------------------

interface StInfo {
  torch: string;
  sentence_transformers: string;
  torch_threads: number;
  quantized_engine: string;
  int8_cosine_to_fp32: CosineStats | null;
  max_seq_length: number;
  tokens: number;
  precisions: Precision[];
}

/** bench/st_throughput.py in --serve mode: one timed `model.encode` per request line. */
class StProcess {
  private constructor(
    private readonly child: ReturnType<typeof spawn>,
    private readonly lines: AsyncIterator<string>,
    private readonly stderr: () => string,
    readonly info: StInfo,
  ) {}

  static async start(model: ResolvedModel, textsFile: string, options: Options): Promise<StProcess> {
    const threads = String(options.threads);
    const args = [
      path.join(rootDir, 'bench', 'st_throughput.py'),
      ...['--model', model.dir, '--texts', textsFile, '--threads', threads, '--batch-size', String(options.stBatchSize)],
      ...['--max-seq-length', String(model.conventions.maxSeqLength), '--prompt', model.conventions.passagePrompt, '--warmup', String(options.warmup), '--serve'],
      ...(options.stInt8 ? ['--int8'] : []),
    ];
    const env = { ...process.env, HF_HUB_OFFLINE: '1', TQDM_DISABLE: '1', TRANSFORMERS_VERBOSITY: 'error', OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads, RAYON_NUM_THREADS: threads, PYTHONUNBUFFERED: '1' };
    const child = spawn(pythonExecutable(), args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
    const spawned = new Promise<never>((_, reject) => child.once('error', (error) => reject(new Error(`cannot start ${pythonExecutable()}: ${error.message}`))));
    const first = await Promise.race([lines.next(), spawned]);
    const info = parseReply(first, () => stderr) as StInfo & { ready?: boolean };
    if (!info.ready) throw new Error(`st_throughput.py did not start: ${JSON.stringify(info)}`);
    return new StProcess(child, lines, () => stderr, info);
  }

  async time(precision: Precision): Promise<number> {
    this.child.stdin?.write(`${precision}\n`);
    const reply = parseReply(await this.lines.next(), this.stderr) as { seconds?: number; error?: string };
    if (typeof reply.seconds !== 'number') throw new Error(`st_throughput.py: ${reply.error ?? JSON.stringify(reply)}`);
    return reply.seconds;
  }

  /** CPU time the Python process has used so far (Linux), so it can be told apart from other load. */
  cpuSeconds(): number {
    try {
      const stat = fs.readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      return 0;
    }
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.stdin?.end();
    await exited;
  }

}

function parseReply(result: IteratorResult<string>, stderr: () => string): unknown {
  if (result.done) throw new Error(`st_throughput.py exited early:\n${stderr().split('\n').slice(-15).join('\n')}`);
  return JSON.parse(result.value);
}

// --- report ----------------------------------------------------------------------------------------

function summarize(name: string, precision: Precision, reps: Rep[], flopsPerToken: number, gemmGflops: number): Summary {
  const rates = reps.map((rep) => rep.texts / rep.seconds);
  const tokensPerSecond = median(reps.map((rep) => rep.tokens / rep.seconds));
  const padded = reps.reduce((sum, rep) => sum + rep.paddedTokens, 0);
  const real = reps.reduce((sum, rep) => sum + rep.tokens, 0);
  const gflops = (flopsPerToken * tokensPerSecond) / 1e9;
  return {
    name,
    precision,
    reps,
    passagesPerSecond: { median: median(rates), min: Math.min(...rates), max: Math.max(...rates) },
    tokensPerSecond,
    gflops,
    gemmShare: gflops / gemmGflops,
    ...(Number.isNaN(padded) ? {} : { paddingEfficiency: real / padded }),
  };
}

type Report = {
  machine: { cpu: string; cores: number; node: string; onnxruntimeNode: string; torch: string; sentenceTransformers: string; loadAverageBefore: number[]; loadAverageAfter: number[]; otherLoad: OtherLoad | undefined };
  model: { id: string; hidden: number; intermediate: number; layers: number; maxSeqLength: number };
  settings: Options & { engineMaxBatchTokens: number | string; engineMaxBatchSize: number | string };
  passages: { count: number; tokens: number; meanTokens: number; minTokens: number; maxTokens: number };
  sentenceTransformers?: { torchThreads: number; quantizedEngine: string; maxSeqLength: number; tokens: number };
  flopsPerToken: number;
  gemm: { square: GemmResult; ffnShape: GemmResult };
  results: Summary[];
  ratios: { precision: string; ratio: number; perRoundMin: number; perRoundMax: number; bestRatio: number }[];
  int8Quality: { engine: CosineStats | undefined; sentenceTransformers: CosineStats | undefined };
  noise: string[];
  targets: { name: string; value: string; pass: boolean | undefined }[];
  totalSeconds: number;
};

function printReport(report: Report): void {
  const { machine, model, settings, passages } = report;
  const f = (value: number, digits = 1) => value.toFixed(digits);
  const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' ');
  const lines: string[] = [];
  lines.push('', `Embedding throughput — ${model.id} (L=${model.layers}, H=${model.hidden}, I=${model.intermediate}, max ${model.maxSeqLength} tokens)`);
  lines.push(`machine   ${machine.cpu}, ${machine.cores} cores · Node ${machine.node} · onnxruntime-node ${machine.onnxruntimeNode} · torch ${machine.torch} · sentence-transformers ${machine.sentenceTransformers}`);
  const other = machine.otherLoad;
  lines.push(`load      ${other ? `other processes used ${f(other.otherCores, 2)} cores on average while measuring (steal ${f(other.stealCores, 2)}) · ` : ''}load avg before ${load(machine.loadAverageBefore)}, after ${load(machine.loadAverageAfter)}`);
  lines.push(`setup     ${settings.threads} threads · ${passages.count} passages · ${passages.tokens} tokens (mean ${f(passages.meanTokens)}, min ${passages.minTokens}, max ${passages.maxTokens})`);
  lines.push(`          warm-up ${settings.warmup} passages · ${settings.reps} timed reps, engine and PyTorch interleaved`);
  lines.push(`          engine: 1 worker, ${settings.threads} intra-op threads, maxBatchTokens ${settings.engineMaxBatchTokens}, maxBatchSize ${settings.engineMaxBatchSize}`);
  const stInfo = report.sentenceTransformers;
  if (stInfo) lines.push(`          sentence-transformers: torch threads ${stInfo.torchThreads}, batch_size ${settings.stBatchSize}, max_seq_length ${stInfo.maxSeqLength}, ${stInfo.tokens} tokens${stInfo.tokens === passages.tokens ? ' (same as the engine)' : ` (engine: ${passages.tokens})`}, int8 engine ${stInfo.quantizedEngine}`);
  lines.push(`          FLOPs/token ${f(report.flopsPerToken / 1e6, 2)} M = 2·L·(4H² + 2HI) + 4·L·H·T_avg (T_avg ${f(passages.meanTokens)})`);
  lines.push('');
  lines.push(`GEMM (onnxruntime-node MatMul, fp32), GFLOP/s        ceiling  median     max   [median of 5: before | each round | after]`);
  const med = (values: number[]) => f(median(values), 0);
  const gemmLine = (label: string, g: GemmResult) =>
    `  ${label.padEnd(49)} ${f(g.ceilingGflops).padStart(7)} ${f(g.medianGflops).padStart(7)} ${f(g.maxGflops).padStart(7)}   [${med(g.gflopsBefore)} | ${g.gflopsRounds.map(med).join(' ') || '—'} | ${med(g.gflopsAfter)}]`;
  const { square: sq, ffnShape: ffn } = report.gemm;
  lines.push(gemmLine(`${sq.m}×${sq.k}×${sq.n} (the reference)`, sq));
  lines.push(gemmLine(`${ffn.m}×${ffn.k}×${ffn.n} (a batch through the FFN, info)`, ffn));
  lines.push(`  ceiling = the best median of 5 (load only slows a GEMM down); "of GEMM" below is against ${f(sq.ceilingGflops)} GFLOP/s`);
  lines.push('');
  const header = `${'contender'.padEnd(32)} ${'passages/s median'.padStart(17)} ${'min'.padStart(7)} ${'max'.padStart(7)} ${'tokens/s'.padStart(9)} ${'GFLOP/s'.padStart(8)} ${'of GEMM'.padStart(8)} ${'real/padded'.padStart(11)}`;
  lines.push(header, '-'.repeat(header.length));
  for (const s of report.results) {
    const share = `${f(s.gemmShare * 100)}%${s.precision === 'int8' ? '*' : ''}`;
    lines.push(
      `${s.name.padEnd(32)} ${f(s.passagesPerSecond.median, 2).padStart(17)} ${f(s.passagesPerSecond.min, 2).padStart(7)} ${f(s.passagesPerSecond.max, 2).padStart(7)} ${f(s.tokensPerSecond, 0).padStart(9)} ${f(s.gflops).padStart(8)} ${share.padStart(8)} ${(s.paddingEfficiency === undefined ? '—' : `${f(s.paddingEfficiency * 100)}%`).padStart(11)}`,
    );
  }
  lines.push('  * int8 work measured in fp32-equivalent FLOPs against the fp32 GEMM ceiling (can exceed 100%).');
  lines.push('');
  for (const r of report.ratios) lines.push(`engine / sentence-transformers ${r.precision}: ${f(r.ratio, 2)}× of medians (per round ${f(r.perRoundMin, 2)}–${f(r.perRoundMax, 2)}×, best rep vs best rep ${f(r.bestRatio, 2)}×)`);
  const quality = (q: CosineStats | undefined) => (q ? `mean ${f(q.mean, 4)}, min ${f(q.min, 4)}` : 'not measured');
  lines.push(`int8 cosine to its own fp32 (${settings.warmup} warm-up passages): engine ${quality(report.int8Quality.engine)} · torch dynamic int8 ${quality(report.int8Quality.sentenceTransformers)}`);
  lines.push('');
  lines.push(`targets (set for 2 CPU cores; this run used ${settings.threads} threads)`);
  for (const t of report.targets) lines.push(`  ${t.pass === undefined ? 'n/a ' : t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.value}`);
  if (report.noise.length > 0) {
    lines.push('', 'NOISY RUN: other load disturbed the measurements; rerun on an idle machine, or read the best-rep ratios.');
    for (const note of report.noise) lines.push(`  ${note}`);
  }
  lines.push('', `total ${f(report.totalSeconds)} s`);
  console.log(lines.join('\n'));
}

// --- helpers ---------------------------------------------------------------------------------------

/** USER_HZ: the unit of /proc/stat, 100 on every mainstream Linux. */
const CLOCK_TICKS = 100;

interface CpuSample {
  busyTicks: number;
  stealTicks: number;
  ownMicros: number;
  time: bigint;
}

interface OtherLoad {
  /** Cores kept busy by processes other than this benchmark and its Python child, on average. */
  otherCores: number;
  /** Cores the hypervisor took away, on average. */
  stealCores: number;
}

/** Machine-wide busy time from /proc/stat and this process's own CPU time (all threads). */
function sampleCpu(): CpuSample | undefined {
  try {
    const fields = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] as string).trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    const usage = process.cpuUsage();
    return { busyTicks: user + nice + system + irq + softirq, stealTicks: steal, ownMicros: usage.user + usage.system, time: process.hrtime.bigint() };
  } catch {
    return undefined;
  }
}

function otherCpuLoad(start: CpuSample, childSeconds: number): OtherLoad | undefined {
  const end = sampleCpu();
  if (!end) return undefined;
  const wall = Number(end.time - start.time) / 1e9;
  const busy = (end.busyTicks - start.busyTicks) / CLOCK_TICKS;
  const own = (end.ownMicros - start.ownMicros) / 1e6 + childSeconds;
  return { otherCores: Math.max(0, (busy - own) / wall), stealCores: (end.stealTicks - start.stealTicks) / CLOCK_TICKS / wall };
}

interface CosineStats {
  texts: number;
  mean: number;
  min: number;
}

function cosineStats(a: Float32Array[], b: Float32Array[]): CosineStats | undefined {
  if (a.length === 0 || a.length !== b.length) return undefined;
  const cosines = a.map((x, i) => {
    const y = b[i] as Float32Array;
    let dot = 0;
    let nx = 0;
    let ny = 0;
    for (let j = 0; j < x.length; j += 1) {
      dot += (x[j] as number) * (y[j] as number);
      nx += (x[j] as number) ** 2;
      ny += (y[j] as number) ** 2;
    }
    return dot / Math.sqrt(nx * ny);
  });
  return { texts: cosines.length, mean: cosines.reduce((sum, c) => sum + c, 0) / cosines.length, min: Math.min(...cosines) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) return match[1].trim();
  } catch {
    // Not Linux: fall back to what Node reports.
  }
  return os.cpus()[0]?.model ?? 'unknown CPU';
}

function log(message: string): void {
  console.error(`[bench] ${message}`);
}
