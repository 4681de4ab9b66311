/**
 * Synthetic-query generation: what the default embedded LLM writes (parse success per query type,
 * rejection reasons, examples), how many of its queries survive the round-trip filter, and how
 * well the generator keeps a concurrent OpenAI-compatible endpoint busy, with and without 503s.
 *
 *   node bench/run.js synth [--passages 40] [--collection cranfield|med] [--technical 8]
 *                           [--latency-ms 250] [--endpoint-jobs 300] [--json out.json]
 *
 * 1. Passages: `--passages` from the dev collections (../shared/datasets; both by default, half
 *    each), drawn with the project's own `samplePassages` (seeded), plus `--technical` passages of
 *    samples/workspace that `isTechnicalPassage` calls technical, so the technical query types are
 *    measured too. Every default query type is asked once per passage through `generateQueries`
 *    with the default `createLlmClient({ llm: 'local' })`, exactly as `specialize synth` asks.
 * 2. Round trip: each source is indexed whole in a temporary store with the default embedding
 *    model (the collections through Store, the workspace through indexFolders), and each parsed
 *    query goes through `roundTripFilter` with `rankWithSearcher` (k = 20) against its own source.
 * 3. Endpoint: test/helpers/fakeLlmServer.ts answers every request after `--latency-ms`, through
 *    the real OpenAiCompatibleClient + RetryingClient, at several concurrencies, then once with a
 *    share of 503 replies. See bench/README.md.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { startFakeLlmServer, type FakeReply } from '../test/helpers/fakeLlmServer';
import { Embedder } from '../src/core/embed/embedder';
import { loadBeirDataset } from '../src/core/eval/beir';
import { indexFolders } from '../src/core/indexFolders';
import { DEFAULT_MODEL_ID } from '../src/core/models/packaged';
import { resolveModel } from '../src/core/models/resolver';
import type { ProgressEvent } from '../src/core/progress';
import { Searcher } from '../src/core/search/searcher';
import type { StoredPassage } from '../src/core/store/schema';
import { Store } from '../src/core/store/store';
import { DEFAULT_SYNTH_TYPES } from '../src/core/synth/defaults';
import type { QueryRecord } from '../src/core/synth/filterTypes';
import { roundTripFilter } from '../src/core/synth/filters';
import { generateQueries, isTechnicalPassage, plannedJobs, type GenerationOutcome, type GenerationProgress, type PassageToAsk } from '../src/core/synth/generate';
import { GenerationLog, type GenerationRecord } from '../src/core/synth/generationLog';
import { createLlmClient } from '../src/core/synth/llm/createClient';
import { RetryingClient, type RetryStats } from '../src/core/synth/llm/retry';
import type { LlmClient } from '../src/core/synth/llm/types';
import { FEW_SHOT_POOL } from '../src/core/synth/fewShotPool';
import type { ParseRejection } from '../src/core/synth/parse';
import { queryType, type QueryType } from '../src/core/synth/queryTypes';
import { samplePassages } from '../src/core/synth/sampling';
import { rankWithSearcher } from '../src/core/synth/studentRank';
import { packageRoot } from '../src/core/util/paths';
import { startClock, type Timing } from './clock';

/** The project's target for the default local model: answers the parser reads as a query. */
const TARGET_FORMAT_SUCCESS = 0.98;
/** The method's round-trip depth: the student's top 20. */
const ROUND_TRIP_K = 20;
const COLLECTIONS = ['cranfield', 'med'] as const;
/** Every parser rejection, in the order the parser checks them. */
const REJECTIONS: readonly ParseRejection[] = ['empty', 'no-words', 'refusal', 'echoes-prompt', 'too-long', 'copies-passage', 'copies-example'];
/** Seconds between progress lines on stderr. */
const PROGRESS_EVERY_S = 15;

interface Options {
  passages: number;
  collections: string[];
  technical: number;
  datasets: string;
  workspace: string;
  latencyMs: number;
  endpointJobs: number;
  concurrencies: number[];
  faultRate: number;
  seed: number;
  model: string;
  local: boolean;
  endpoint: boolean;
  json: string | undefined;
}


/** One searchable corpus: a dev collection or the sample workspace, in its own store. */
interface Source {
  name: string;
  store: Store;
  searcher: Searcher;
  passages: StoredPassage[];
  index: Timing;
}

interface TypeParse {
  type: string;
  answers: number;
  /** Answers the parser turned into a query. */
  accepted: number;
  /** Answers with a well-formed query, copying or not: accepted + copies-passage + copies-example. */
  formatOk: number;
  rejections: Record<ParseRejection, number>;
  /** Accepted queries that are word for word one of the prompt pool's example answers (any type). */
  fewShotCopies: number;
  examples: { source: string; query: string; passage: string }[];
  /** A few rejected raw answers per reason, to see the failure patterns. */
  rejected: { reason: string; raw: string }[];
}

interface LocalRun {
  llm: string;
  modelId: string;
  concurrency: number;
  loadSeconds: number;
  timing: Timing;
  outcome: GenerationOutcome;
  retry: RetryStats | undefined;
  records: GenerationRecord[];
}

interface RoundTripRow {
  /** A query type or a source name. */
  label: string;
  queries: number;
  passed: number;
}

interface RoundTripResult {
  k: number;
  byType: RoundTripRow[];
  bySource: (RoundTripRow & { storePassages: number; seconds: number })[];
  queries: number;
  seconds: number;
  queriesPerSecond: number;
  timing: Timing;
}

interface EndpointRun {
  concurrency: number;
  faultRate: number;
  jobs: number;
  answered: number;
  failed: number;
  httpRequests: number;
  retries: number;
  peakInFlight: number;
  seconds: number;
  queriesPerSecond: number;
  /** concurrency / latency: every slot always busy, zero overhead. */
  idealPerSecond: number;
  /** The same, for whole rounds: the last round of jobs may not fill every slot. */
  idealWholeRoundsPerSecond: number;
  efficiency: number;
  timing: Timing;
}

export async function main(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  const started = performance.now();
  const loadavgStart = os.loadavg();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'specialize-bench-synth-'));
  const types = DEFAULT_SYNTH_TYPES.map(queryType);
  let measured: Measured;
  try {
    measured = await runAll(options, types, workDir);
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  const report: Report = { machine: machineInfo(loadavgStart), runtimeSeconds: (performance.now() - started) / 1000, ...measured };
  printReport(report, options);
  if (options.json) fs.writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      passages: { type: 'string', default: '40' },
      collection: { type: 'string' },
      technical: { type: 'string', default: '8' },
      datasets: { type: 'string', default: path.resolve(packageRoot(), '..', 'shared', 'datasets') },
      workspace: { type: 'string', default: path.join(packageRoot(), 'samples', 'workspace') },
      'latency-ms': { type: 'string', default: '250' },
      'endpoint-jobs': { type: 'string', default: '300' },
      concurrency: { type: 'string', default: '1,4,16,64' },
      'fault-rate': { type: 'string', default: '0.1' },
      seed: { type: 'string', default: '42' },
      model: { type: 'string', default: DEFAULT_MODEL_ID },
      'no-local': { type: 'boolean', default: false },
      'no-endpoint': { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  const collection = values.collection;
  if (collection !== undefined && !(COLLECTIONS as readonly string[]).includes(collection)) throw new Error(`--collection takes ${COLLECTIONS.join(' or ')}`);
  const options: Options = {
    passages: Number(values.passages),
    collections: collection === undefined ? [...COLLECTIONS] : [collection],
    technical: Number(values.technical),
    datasets: String(values.datasets),
    workspace: String(values.workspace),
    latencyMs: Number(values['latency-ms']),
    endpointJobs: Number(values['endpoint-jobs']),
    concurrencies: String(values.concurrency).split(',').map(Number),
    faultRate: Number(values['fault-rate']),
    seed: Number(values.seed),
    model: String(values.model),
    local: !values['no-local'],
    endpoint: !values['no-endpoint'],
    json: values.json,
  };
  for (const [name, value] of [['--passages', options.passages], ['--technical', options.technical], ['--latency-ms', options.latencyMs], ['--endpoint-jobs', options.endpointJobs], ...options.concurrencies.map((c) => ['--concurrency', c] as const)] as const) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} takes a whole number ≥ 0, got ${value}`);
  }
  if (!(options.faultRate >= 0 && options.faultRate < 1)) throw new Error('--fault-rate takes a share in [0, 1)');
  return options;
}

interface Report extends Measured {
  machine: ReturnType<typeof machineInfo>;
  runtimeSeconds: number;
}

interface Measured {
  embeddingModel: { id: string; version: string };
  sources: { name: string; passages: number; index: Timing }[];
  sample: { source: string; passages: number; technical: number }[];
  local: (Omit<LocalRun, 'records'> & { parse: TypeParse[]; total: TypeParse; roundTrip: RoundTripResult; answers: Pick<GenerationRecord, 'passage_id' | 'type' | 'raw' | 'query' | 'reason'>[] }) | undefined;
  endpoint: { latencyMs: number; perType: number; runs: EndpointRun[] } | undefined;
}

/** Builds the stores, samples the passages, then runs each part in turn, so no two compete for the cores. */
async function runAll(options: Options, types: readonly QueryType[], workDir: string): Promise<Measured> {
  const model = await resolveModel(options.model);
  const embedder = await Embedder.create({ model });
  const sources: Source[] = [];
  try {
    for (const name of options.collections) sources.push(await openCollection(name, options.datasets, path.join(workDir, 'stores', name), embedder, options.model));
    if (options.technical > 0) sources.push(await openWorkspace(options.workspace, path.join(workDir, 'stores', 'workspace'), embedder, options.model));
    const { items, sourceOf } = sampleItems(sources, options);
    let local: Measured['local'];
    if (options.local) {
      const run = await runLocalGeneration(items, types, path.join(workDir, 'local'));
      const passages = new Map(items.map((item) => [item.passage.id, item.passage]));
      const parse = summarizeParse(run.records, types, sourceOf, passages);
      const { records, ...rest } = run;
      const roundTrip = await runRoundTrip(records, sources, sourceOf, embedder);
      const answers = records.map(({ passage_id, type, raw, query, reason }) => ({ passage_id, type, raw, query, reason }));
      local = { ...rest, parse: parse.byType, total: parse.total, roundTrip, answers };
    }
    const endpoint = options.endpoint ? await runEndpoint(items, types, options, path.join(workDir, 'endpoint')) : undefined;
    return {
      embeddingModel: { id: model.id, version: embedder.version },
      sources: sources.map((source) => ({ name: source.name, passages: source.passages.length, index: source.index })),
      sample: sources.map((source) => ({
        source: source.name,
        passages: items.filter((item) => sourceOf.get(item.passage.id) === source.name).length,
        technical: items.filter((item) => sourceOf.get(item.passage.id) === source.name && isTechnicalPassage(item.passage)).length,
      })),
      local,
      endpoint,
    };
  } finally {
    for (const source of sources) source.store.close();
    await embedder.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Sources and the passage sample

/**
 * A whole BEIR collection in a store of its own, as runEval builds one. Ids carry the collection
 * name (both number their documents from 1), and each path ends in .txt so that samplePassages
 * puts a collection in one stratum rather than one per document.
 */
async function openCollection(name: string, datasets: string, storeDir: string, embedder: Embedder, modelId: string): Promise<Source> {
  const dataset = await loadBeirDataset(path.join(datasets, name));
  log(`${name}: indexing ${dataset.corpus.length} documents`);
  const clock = startClock();
  const store = await Store.open(storeDir, { create: true });
  await store.syncPassages(dataset.corpus.map((doc) => ({ id: `${name}:${doc.id}`, root: name, path: `${doc.id}.txt`, title: doc.title, text: doc.text })));
  await store.syncVectors(embedder, modelId, { onProgress: throttled(name) });
  return { name, store, searcher: new Searcher(store, embedder), passages: await store.listPassages(), index: clock() };
}

/** The sample workspace indexed the way users index folders (scan, chunk, store, embed). */
async function openWorkspace(folder: string, storeDir: string, embedder: Embedder, modelId: string): Promise<Source> {
  log(`workspace: indexing ${folder}`);
  const clock = startClock();
  await indexFolders({ folders: [folder], storeDir, model: modelId, onProgress: throttled('workspace') });
  const store = await Store.open(storeDir);
  return { name: 'workspace', store, searcher: new Searcher(store, embedder), passages: await store.listPassages(), index: clock() };
}

/**
 * `--passages` split evenly over the collections and `--technical` from the workspace, each drawn
 * by samplePassages (near-duplicates and too-short passages removed, seeded shuffle), so the
 * benchmark asks about the passages `specialize synth` would pick. The workspace is narrowed to
 * technical passages first: it is there to exercise the technical query types. Also returns each
 * passage's source (ids are unique across sources: collection ids carry their collection's name).
 */
function sampleItems(sources: readonly Source[], options: Options): { items: PassageToAsk[]; sourceOf: Map<string, string> } {
  const collections = sources.filter((source) => source.name !== 'workspace');
  const items: PassageToAsk[] = [];
  const sourceOf = new Map<string, string>();
  const add = (source: Source, passages: readonly StoredPassage[], count: number) => {
    for (const passage of samplePassages(passages, { maxPassages: count, holdOut: 0, seed: options.seed }).train) {
      if (sourceOf.has(passage.id)) throw new Error(`passage id ${passage.id} appears in two sources`);
      sourceOf.set(passage.id, source.name);
      items.push({ passage, split: 'train' });
    }
  };
  collections.forEach((source, index) => {
    // The first collections take the remainder of an odd count.
    add(source, source.passages, Math.floor(options.passages / collections.length) + (index < options.passages % collections.length ? 1 : 0));
  });
  const workspace = sources.find((source) => source.name === 'workspace');
  if (workspace) add(workspace, workspace.passages.filter(isTechnicalPassage), options.technical);
  return { items, sourceOf };
}

// ---------------------------------------------------------------------------------------------
// 1. The embedded local model

async function runLocalGeneration(items: readonly PassageToAsk[], types: readonly QueryType[], dir: string): Promise<LocalRun> {
  const loadStarted = performance.now();
  const client = await createLlmClient({ llm: 'local' });
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  log(`local: ${client.description}, concurrency ${client.concurrency}, loaded in ${loadSeconds.toFixed(1)} s`);
  const generationLog = await GenerationLog.open(path.join(dir, 'generations.jsonl'));
  try {
    const clock = startClock();
    const outcome = await generateQueries({ client, log: generationLog, items, types, perType: 1, onProgress: throttledGeneration('local') });
    const timing = clock();
    log(`local: ${outcome.done} answers in ${timing.seconds.toFixed(0)} s`);
    return { llm: client.description, modelId: client.modelId, concurrency: client.concurrency, loadSeconds, timing, outcome, retry: retryStats(client), records: generationLog.records() };
  } finally {
    generationLog.close();
    await client.close();
  }
}

/** Parse outcomes per query type (in the types' order) and over all types. */
function summarizeParse(records: readonly GenerationRecord[], types: readonly QueryType[], sourceOf: ReadonlyMap<string, string>, passages: ReadonlyMap<string, StoredPassage>): { byType: TypeParse[]; total: TypeParse } {
  const byType = types.map((type) => tallyParse(type.id, records.filter((record) => record.type === type.id), sourceOf, passages)).filter((row) => row.answers > 0);
  return { byType, total: tallyParse('all types', records, sourceOf, passages) };
}

function tallyParse(label: string, records: readonly GenerationRecord[], sourceOf: ReadonlyMap<string, string>, passages: ReadonlyMap<string, StoredPassage>): TypeParse {
  const rejections = Object.fromEntries(REJECTIONS.map((reason) => [reason, 0])) as Record<ParseRejection, number>;
  const rejected: TypeParse['rejected'] = [];
  for (const record of records) {
    if (record.query !== null) continue;
    const reason = record.reason as ParseRejection;
    rejections[reason] = (rejections[reason] ?? 0) + 1;
    // Two per reason are enough to show a pattern without flooding the report.
    if (rejected.filter((r) => r.reason === reason).length < 2) rejected.push({ reason, raw: record.raw });
  }
  const accepted = records.filter((record) => record.query !== null);
  // Spread over the sample (which is in source order), so the examples show more than one source.
  const examples = spread(accepted, 3).map((record) => ({
    source: sourceOf.get(record.passage_id) ?? '?',
    query: record.query as string,
    passage: passages.get(record.passage_id)?.text ?? '',
  }));
  const fewShotCopies = accepted.filter((record) => FEW_SHOT_ANSWERS.has(normalized(record.query as string))).length;
  return { type: label, answers: records.length, accepted: accepted.length, formatOk: accepted.length + (rejections['copies-passage'] ?? 0) + (rejections['copies-example'] ?? 0), rejections, fewShotCopies, examples, rejected };
}

/**
 * The pool's example answers, normalised. A small model sometimes repeats an example's answer
 * instead of writing one for its passage; the parser cannot know, so the benchmark counts them.
 */
const FEW_SHOT_ANSWERS = new Set(FEW_SHOT_POOL.flatMap((example) => Object.values(example.queries).flatMap((query) => (query === undefined ? [] : [normalized(query)]))));

function normalized(text: string): string {
  return (text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []).join(' ');
}

// ---------------------------------------------------------------------------------------------
// 2. Round trip

/**
 * Every parsed query against its own source's store, as `specialize synth` filters them. Each
 * searcher answers one throwaway query first, so opening the vector table is not counted as
 * filtering throughput.
 */
async function runRoundTrip(records: readonly GenerationRecord[], sources: readonly Source[], sourceOf: ReadonlyMap<string, string>, embedder: Embedder): Promise<RoundTripResult> {
  const queries: QueryRecord[] = records.flatMap((record) => (record.query === null ? [] : [{ passage_id: record.passage_id, type: record.type, query: record.query }]));
  const passedByType = new Map<string, number>();
  const bySource: RoundTripResult['bySource'] = [];
  let seconds = 0;
  const clock = startClock();
  for (const source of sources) {
    const mine = queries.filter((query) => sourceOf.get(query.passage_id) === source.name);
    if (mine.length === 0) continue;
    const rank = rankWithSearcher(source.searcher, embedder);
    await rank(['warm-up query'], ROUND_TRIP_K);
    const started = performance.now();
    const result = await roundTripFilter(mine, { rank, k: ROUND_TRIP_K });
    const took = (performance.now() - started) / 1000;
    seconds += took;
    for (const item of result.kept) passedByType.set(item.type, (passedByType.get(item.type) ?? 0) + 1);
    bySource.push({ label: source.name, queries: mine.length, passed: result.kept.length, storePassages: source.passages.length, seconds: took });
    log(`round trip ${source.name}: ${result.kept.length}/${mine.length} in ${took.toFixed(1)} s`);
  }
  const typeIds = [...new Set(queries.map((query) => query.type))];
  const byType = typeIds.map((type) => ({ label: type, queries: queries.filter((query) => query.type === type).length, passed: passedByType.get(type) ?? 0 }));
  return { k: ROUND_TRIP_K, byType, bySource, queries: queries.length, seconds, queriesPerSecond: queries.length / Math.max(seconds, 1e-9), timing: clock() };
}

// ---------------------------------------------------------------------------------------------
// 3. A concurrent endpoint

/**
 * The same passages, asked `perType` times each so a run has about `--endpoint-jobs` requests, at
 * every concurrency without faults and then at 16 (or the highest below it) with 503s.
 */
async function runEndpoint(items: readonly PassageToAsk[], types: readonly QueryType[], options: Options, dir: string): Promise<Measured['endpoint']> {
  const perRound = [...plannedJobs(items, types, 1, 'count')].length;
  const perType = Math.max(1, Math.round(options.endpointJobs / Math.max(1, perRound)));
  const runs: EndpointRun[] = [];
  for (const concurrency of options.concurrencies) {
    runs.push(await endpointRun(items, types, perType, concurrency, 0, options.latencyMs, dir));
  }
  if (options.faultRate > 0) {
    const faulted = options.concurrencies.includes(16) ? 16 : Math.max(...options.concurrencies);
    runs.push(await endpointRun(items, types, perType, faulted, options.faultRate, options.latencyMs, dir));
  }
  return { latencyMs: options.latencyMs, perType, runs };
}

async function endpointRun(items: readonly PassageToAsk[], types: readonly QueryType[], perType: number, concurrency: number, faultRate: number, latencyMs: number, dir: string): Promise<EndpointRun> {
  const server = await startFakeLlmServer({ fallback: (request) => replyFor(request.index, faultRate, latencyMs) });
  // A fresh log per run: a shared one would answer later runs from the cache.
  const generationLog = await GenerationLog.open(path.join(dir, `c${concurrency}-faults${faultRate}`, 'generations.jsonl'));
  const client = await createLlmClient({ llm: server.url, model: 'bench-fake', concurrency });
  try {
    const clock = startClock();
    const outcome = await generateQueries({ client, log: generationLog, items, types, perType, onProgress: throttledGeneration(`endpoint c${concurrency}`) });
    const timing = clock();
    const jobs = outcome.total;
    const rounds = Math.ceil(jobs / concurrency);
    const run: EndpointRun = {
      concurrency,
      faultRate,
      jobs,
      answered: outcome.done,
      failed: outcome.failed,
      httpRequests: server.requests.length,
      retries: retryStats(client)?.retries ?? 0,
      peakInFlight: server.maxInFlight,
      seconds: timing.seconds,
      queriesPerSecond: outcome.done / timing.seconds,
      idealPerSecond: (concurrency * 1000) / latencyMs,
      idealWholeRoundsPerSecond: (jobs * 1000) / (rounds * latencyMs),
      efficiency: outcome.done / timing.seconds / ((concurrency * 1000) / latencyMs),
      timing,
    };
    log(`endpoint c${concurrency}${faultRate ? ` with ${(100 * faultRate).toFixed(0)}% 503s` : ''}: ${run.queriesPerSecond.toFixed(1)} q/s (ideal ${run.idealPerSecond.toFixed(1)})`);
    return run;
  } finally {
    generationLog.close();
    await client.close();
    await server.close();
  }
}

/**
 * Every reply waits `latencyMs`; a 503 also comes after the full latency (an overloaded server
 * that times out internally), so a fault costs a whole round trip. Faults are spread evenly by
 * arrival (request i fails when ⌊(i+1)·rate⌋ > ⌊i·rate⌋), so the share is exact and never bursts
 * into the circuit breaker, and retries draw from the same sequence as first attempts.
 */
function replyFor(index: number, faultRate: number, latencyMs: number): FakeReply {
  const fault = Math.floor((index + 1) * faultRate) > Math.floor(index * faultRate);
  return fault ? { status: 503, delayMs: latencyMs, message: 'overloaded (bench fault)' } : { delayMs: latencyMs };
}

function retryStats(client: LlmClient): RetryStats | undefined {
  return client instanceof RetryingClient ? client.stats : undefined;
}

// ---------------------------------------------------------------------------------------------
// Machine, clocks, progress

function machineInfo(loadavgStart: number[]) {
  return { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), node: process.version, loadavgStart, loadavgEnd: os.loadavg() };
}

function throttled(label: string): (event: ProgressEvent) => void {
  let last = performance.now();
  return (event) => {
    if (performance.now() - last < PROGRESS_EVERY_S * 1000) return;
    last = performance.now();
    log(`${label}: ${event.stage} ${event.done}/${event.total || '?'}`);
  };
}

function throttledGeneration(label: string): (progress: GenerationProgress) => void {
  let last = performance.now();
  return (progress) => {
    if (performance.now() - last < PROGRESS_EVERY_S * 1000) return;
    last = performance.now();
    const eta = progress.etaSeconds === undefined ? '?' : progress.etaSeconds.toFixed(0);
    log(`${label}: ${progress.done}/${progress.total} answers, ${progress.queriesPerSecond.toFixed(2)} q/s, about ${eta} s left`);
  };
}

/** `count` items spread evenly over `items`, in order. */
function spread<T>(items: readonly T[], count: number): T[] {
  if (count >= items.length) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor(((i + 0.5) * items.length) / count)] as T);
}

function log(message: string): void {
  process.stderr.write(`  ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// The report

/** Other processes' average busy cores above which a CPU-bound phase is flagged. */
const NOISY_OTHER_CORES = 0.15;

const pct = (x: number, of: number) => (of === 0 ? '–' : `${((100 * x) / of).toFixed(1)}%`);
const fixed = (x: number, digits = 1) => x.toFixed(digits);
const cores = (t: Timing) => (t.otherCores === null ? '?' : t.otherCores.toFixed(2));
/** One line of a raw answer, quoted, for a Markdown table or list. */
const quote = (text: string, max = 90) => JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text).replace(/\|/g, '\\|');

function printReport(r: Report, options: Options): void {
  const lines: string[] = [];
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  lines.push(`Synthetic queries — ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}; load average ${load(r.machine.loadavgStart)} at start, ${load(r.machine.loadavgEnd)} at end`);
  lines.push(`Embedding model ${r.embeddingModel.id} (${r.embeddingModel.version}). Stores: ${r.sources.map((s) => `${s.name} ${s.passages} passages (indexed in ${fixed(s.index.seconds)} s)`).join(', ')}.`);
  lines.push(`Sample (samplePassages, seed ${options.seed}): ${r.sample.map((s) => `${s.source} ${s.passages} (${s.technical} technical)`).join(', ')}.`);
  const noisy: string[] = [];
  if (r.local) printLocal(r.local, lines, noisy);
  if (r.endpoint) printEndpoint(r.endpoint, lines, noisy);
  if (noisy.length) lines.push('', `NOISY RUN: ${noisy.join('; ')}. Rerun on an idle machine for timings you can compare.`);
  lines.push('', `Benchmark runtime ${fixed(r.runtimeSeconds, 0)} s.`);
  console.log(lines.join('\n'));
}

function printLocal(local: NonNullable<Report['local']>, lines: string[], noisy: string[]): void {
  const o = local.outcome;
  const s = local.timing.seconds;
  lines.push('', `## 1. Embedded local model — ${local.llm}`, '');
  lines.push(`Model ${local.modelId}, concurrency ${local.concurrency}, loaded in ${fixed(local.loadSeconds)} s; one query of each applicable type per passage (generateQueries).`, '');
  lines.push('| requests | failed | retries | wall s | queries/s | prompt tokens | completion tokens | prompt tokens/s | completion tokens/s | CPU s | other cores |');
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  lines.push(`| ${o.done + o.failed} | ${o.failed} | ${local.retry?.retries ?? 0} | ${fixed(s)} | ${fixed(o.done / s, 2)} | ${o.promptTokens} | ${o.completionTokens} | ${fixed(o.promptTokens / s, 0)} | ${fixed(o.completionTokens / s, 1)} | ${fixed(local.timing.cpuSeconds)} | ${cores(local.timing)} |`);
  if ((local.timing.otherCores ?? 0) > NOISY_OTHER_CORES) noisy.push(`other processes kept ${cores(local.timing)} cores busy during local generation`);

  const roundTrip = new Map(local.roundTrip.byType.map((row) => [row.label, row]));
  lines.push('', '| type | answers | format success | accepted | empty | no-words | refusal | echoes-prompt | too-long | copies-passage | copies-example | accepted but a few-shot answer | round trip (top 20) |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of [...local.parse, local.total]) {
    const trip = row === local.total ? { queries: local.roundTrip.queries, passed: sum(local.roundTrip.byType.map((t) => t.passed)) } : roundTrip.get(row.type);
    const name = row === local.total ? '**all**' : row.type;
    const tripCell = trip ? `${pct(trip.passed, trip.queries)} (${trip.passed}/${trip.queries})` : '–';
    lines.push(`| ${name} | ${row.answers} | ${pct(row.formatOk, row.answers)} | ${pct(row.accepted, row.answers)} | ${REJECTIONS.map((reason) => row.rejections[reason] ?? 0).join(' | ')} | ${row.fewShotCopies} | ${tripCell} |`);
  }
  const format = local.total.formatOk / Math.max(1, local.total.answers);
  const below = local.parse.filter((row) => row.formatOk / row.answers < TARGET_FORMAT_SUCCESS).map((row) => `${row.type} ${pct(row.formatOk, row.answers)}`);
  lines.push('', `Target: format success ≥ ${100 * TARGET_FORMAT_SUCCESS}% for the default local model: **${format >= TARGET_FORMAT_SUCCESS ? 'PASS' : 'FAIL'}** (${pct(local.total.formatOk, local.total.answers)}, ${local.total.formatOk}/${local.total.answers}).${below.length ? ` Types below it: ${below.join(', ')}.` : ''}`);
  lines.push('Format success counts every answer the parser read as a well-formed query (copies of the passage or of a prompt example included); accepted excludes the copies too. "A few-shot answer": accepted queries that repeat, word for word, an example answer from the prompt pool (the parser accepts them; the round trip usually drops them).');
  printRoundTrip(local.roundTrip, lines, noisy);
  printExamples(local.parse, lines);
}

function printRoundTrip(rt: RoundTripResult, lines: string[], noisy: string[]): void {
  lines.push('', `## 2. Round trip (roundTripFilter + rankWithSearcher, k = ${rt.k}, exact search over the whole source)`, '');
  lines.push('| source | passages in store | queries | passed | pass rate | seconds | queries/s |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const row of rt.bySource) lines.push(`| ${row.label} | ${row.storePassages} | ${row.queries} | ${row.passed} | ${pct(row.passed, row.queries)} | ${fixed(row.seconds, 2)} | ${fixed(row.queries / row.seconds)} |`);
  lines.push('', `Round-trip throughput: **${fixed(rt.queriesPerSecond)} queries/s** (${rt.queries} queries in ${fixed(rt.seconds, 2)} s: query embedding and exact dense search; other cores ${cores(rt.timing)}). Pass rates per type are in the table above.`);
  if ((rt.timing.otherCores ?? 0) > NOISY_OTHER_CORES) noisy.push(`other processes kept ${cores(rt.timing)} cores busy during the round trip`);
}

function printExamples(parse: readonly TypeParse[], lines: string[]): void {
  lines.push('', '### Example queries (3 per type, spread over the sample) and rejected answers', '');
  for (const row of parse) {
    lines.push(`- **${row.type}**`);
    for (const example of row.examples) lines.push(`  - ${quote(example.query, 160)} (${example.source}; passage: ${quote(example.passage.replace(/\s+/g, ' '), 70)})`);
    for (const rejected of row.rejected) lines.push(`  - rejected, ${rejected.reason}: ${quote(rejected.raw, 120)}`);
  }
}

function printEndpoint(endpoint: NonNullable<Report['endpoint']>, lines: string[], noisy: string[]): void {
  lines.push('', `## 3. Concurrent endpoint — fake OpenAI-compatible server, ${endpoint.latencyMs} ms per reply, OpenAiCompatibleClient + RetryingClient via createLlmClient`, '');
  lines.push(`generateQueries end to end (prompt building, HTTP, parsing, fsynced log); each passage asked ${endpoint.perType}× per type.`, '');
  lines.push('| concurrency | 503 share | jobs | answered | failed | HTTP requests | retries | peak in flight | wall s | queries/s | ideal q/s (c / latency) | ideal, whole rounds | efficiency | CPU s |');
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const run of endpoint.runs) {
    lines.push(
      `| ${run.concurrency} | ${pct(run.faultRate, 1)} | ${run.jobs} | ${run.answered} | ${run.failed} | ${run.httpRequests} | ${run.retries} | ${run.peakInFlight} | ${fixed(run.seconds, 2)} | ${fixed(run.queriesPerSecond)} | ${fixed(run.idealPerSecond)} | ${fixed(run.idealWholeRoundsPerSecond)} | ${pct(run.queriesPerSecond, run.idealPerSecond)} | ${fixed(run.timing.cpuSeconds)} |`,
    );
  }
  const faulted = endpoint.runs.find((run) => run.faultRate > 0);
  const clean = faulted && endpoint.runs.find((run) => run.faultRate === 0 && run.concurrency === faulted.concurrency);
  if (faulted && clean) {
    const cost = 1 - faulted.queriesPerSecond / clean.queriesPerSecond;
    lines.push('', `With ${pct(faulted.faultRate, 1)} of replies 503 at concurrency ${faulted.concurrency}: ${faulted.retries} retries, ${faulted.failed} requests failed for good; ${fixed(faulted.queriesPerSecond)} vs ${fixed(clean.queriesPerSecond)} queries/s, a throughput cost of **${pct(cost, 1)}**.`);
  }
  // The endpoint phase waits on the server: only a busy machine that delays the event loop shows.
  const busiest = Math.max(...endpoint.runs.map((run) => run.timing.otherCores ?? 0));
  if (busiest > 1) noisy.push(`other processes kept up to ${busiest.toFixed(2)} cores busy during the endpoint runs`);
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
