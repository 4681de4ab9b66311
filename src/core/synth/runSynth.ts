import * as path from 'node:path';
import { SpecializeError } from '../errors';
import { openSearch } from '../indexFolders';
import type { ProgressListener } from '../progress';
import type { StoredPassage } from '../store/schema';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic';
import type { QueryRecord } from './filterTypes';
import { fuseCandidates, type CandidateSource } from './candidates';
import { roundTripFilter } from './filters';
import { countJobs, generateQueries, type GenerationProgress, type PassageToAsk } from './generate';
import { GenerationLog, type GenerationRecord } from './generationLog';
import type { LlmClient } from './llm/types';
import { GENERATION } from './prompt';
import { queryType, type QueryType } from './queryTypes';
import { samplePassages, type SampleTally } from './sampling';
import { rankInMemory } from './studentRank';

export interface SynthOptions {
  storeDir: string;
  outDir: string;
  client: LlmClient;
  types: readonly string[];
  perType: number;
  maxPassages: number;
  holdOut: number;
  seed: number;
  /** Round-trip filter depth (the method: the student's top 20). */
  roundTripK?: number;
  /** The training queries' candidates: the student's top 20 (default), or that fused with BM25's. */
  candidateSource?: CandidateSource;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Called once before any request, with what the run will ask (for a cost estimate). */
  onPlan?: (plan: SynthPlan) => void | Promise<void>;
  /** Live generation figures (kept/dropped by reason, tokens) for a progress line. */
  onGeneration?: (progress: GenerationProgress) => void;
}

export interface SynthPlan {
  passages: SampleTally;
  requests: number;
  cached: number;
  /** Rough: ~4 characters per token for the prompts; at most maxTokens per answer. */
  estimatedPromptTokens: number;
  maxCompletionTokens: number;
  paid: boolean;
  llm: string;
}

export interface SynthSummary {
  llm: string;
  passages: SampleTally;
  /** Answers parsed into a query (this run and earlier ones, for this sample). */
  generated: number;
  /** Queries written to queries.jsonl (training queries that passed the round trip, and held-out ones). */
  kept: number;
  keptByType: Record<string, number>;
  heldOutQueries: number;
  /** Every dropped query by reason: parser rejections and filter drops. */
  dropped: Record<string, number>;
  /** HTTP/LLM requests in this run, retries included, and the retries alone. */
  requests: number;
  retries: number;
  failed: number;
  cached: number;
  tokens: { prompt: number; completion: number };
  seconds: number;
  cancelled: boolean;
  files: { queries: string; dropped: string; candidates: string; log: string };
}

/** Files a synth run writes into its --out folder. */
export const SYNTH_FILES = {
  log: 'generations.jsonl',
  queries: 'queries.jsonl',
  dropped: 'dropped.jsonl',
  candidates: 'candidates.jsonl',
  summary: 'summary.json',
} as const;

/**
 * `specialize synth`: sample passages from an index, have the LLM write queries of each type for
 * them (resuming from the generation log), parse, round-trip filter the training queries with the
 * index's own model, and write queries, drops and candidate lists into the output folder.
 */
export async function runSynth(options: SynthOptions): Promise<SynthSummary> {
  const started = performance.now();
  const types = options.types.map(checkedType);
  const opened = await openSearch(options.storeDir, { needsModel: true, ...(options.threads ? { threads: options.threads } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  const log = await GenerationLog.open(path.join(options.outDir, SYNTH_FILES.log));
  let closeRank: (() => Promise<void>) | undefined;
  try {
    const passages = await opened.store.listPassages();
    if (passages.length === 0) throw new SpecializeError(`The index at ${options.storeDir} has no passages.`, 'Index a folder first: `specialize index <folder> --store <dir>`.', 'not-found');
    const sample = samplePassages(passages, { maxPassages: options.maxPassages, holdOut: options.holdOut, seed: options.seed });
    const items: PassageToAsk[] = [...sample.train.map((passage) => ({ passage, split: 'train' as const })), ...sample.heldOut.map((passage) => ({ passage, split: 'heldout' as const }))];
    const jobs = countJobs(items, types, options.perType, options.client.modelId, log);
    await options.onPlan?.({
      passages: sample.tally,
      requests: jobs.requests,
      cached: jobs.cached,
      estimatedPromptTokens: Math.round(jobs.promptChars / 4),
      maxCompletionTokens: jobs.requests * GENERATION.maxTokens,
      paid: options.client.paid,
      llm: options.client.description,
    });

    const generation = await generateQueries({
      client: options.client,
      log,
      items,
      types,
      perType: options.perType,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (progress) => {
        options.onGeneration?.(progress);
        options.onProgress?.({ stage: 'write queries', done: progress.done, total: progress.total, unit: 'queries', message: describeProgress(progress) });
      },
    });

    // This sample's answers, from this run and earlier ones.
    const passageById = new Map<string, StoredPassage>();
    for (const item of items) passageById.set(item.passage.id, item.passage);
    const records = log.records().filter((record) => passageById.get(record.passage_id)?.hash === record.passage_hash && types.some((type) => type.id === record.type) && record.n < options.perType && record.model === options.client.modelId);
    const parsed = records.filter((record) => record.query !== null);
    const rejected = records.filter((record) => record.query === null);

    const train = parsed.filter((record) => record.split === 'train');
    const heldOut = parsed.filter((record) => record.split === 'heldout');
    const heldOutIds = new Set(sample.heldOut.map((passage) => passage.id));
    const rank = rankInMemory(opened.store, opened.searcher, opened.embedder ?? missingEmbedder(), options.threads ? { threads: options.threads } : {});
    closeRank = rank.close;
    const roundTrip = generation.cancelled
      ? { kept: [], dropped: [] }
      : await roundTripFilter(
          train.map((record) => toQuery(record)),
          {
            rank,
            k: options.roundTripK ?? 20,
            heldOutIds,
            onProgress: (done: number, total: number) => options.onProgress?.({ stage: 'round-trip filter', done, total, unit: 'queries' }),
          },
        );

    const dropped: Record<string, number> = {};
    const count = (reason: string) => (dropped[reason] = (dropped[reason] ?? 0) + 1);
    for (const record of rejected) count(record.reason ?? 'unparsed');
    for (const item of roundTrip.dropped) count(item.reason);
    const depth = options.roundTripK ?? 20;
    const keptTrain =
      options.candidateSource === 'student+bm25'
        ? await Promise.all(roundTrip.kept.map(async (item) => ({ ...item, candidates: fuseCandidates(item.candidates, (await opened.store.searchBm25(item.query, depth + heldOutIds.size)).map((hit) => hit.id), heldOutIds, depth) })))
        : roundTrip.kept;
    const keptByType: Record<string, number> = {};
    for (const item of [...keptTrain, ...heldOut]) keptByType[item.type] = (keptByType[item.type] ?? 0) + 1;

    const files = {
      queries: path.join(options.outDir, SYNTH_FILES.queries),
      dropped: path.join(options.outDir, SYNTH_FILES.dropped),
      candidates: path.join(options.outDir, SYNTH_FILES.candidates),
      log: log.file,
    };
    if (!generation.cancelled) {
      await writeJsonLines(files.queries, [
        ...keptTrain.map((item) => ({ passage_id: item.passage_id, type: item.type, query: item.query, split: 'train' })),
        ...heldOut.map((record) => ({ ...toQuery(record), split: 'heldout' })),
      ]);
      await writeJsonLines(files.dropped, [
        ...rejected.map((record) => ({ passage_id: record.passage_id, type: record.type, raw: record.raw, reason: record.reason })),
        ...roundTrip.dropped.map((item) => ({ passage_id: item.passage_id, type: item.type, query: item.query, reason: item.reason })),
      ]);
      await writeJsonLines(
        files.candidates,
        keptTrain.map((item) => ({ passage_id: item.passage_id, type: item.type, query: item.query, candidates: item.candidates })),
      );
    }
    const summary: SynthSummary = {
      llm: options.client.description,
      passages: sample.tally,
      generated: parsed.length,
      kept: keptTrain.length + heldOut.length,
      keptByType,
      heldOutQueries: heldOut.length,
      dropped,
      requests: options.client.stats?.requests ?? generation.done + generation.failed,
      retries: options.client.stats?.retries ?? 0,
      failed: generation.failed,
      cached: generation.cached,
      tokens: { prompt: generation.promptTokens, completion: generation.completionTokens },
      seconds: (performance.now() - started) / 1000,
      cancelled: generation.cancelled,
      files,
    };
    if (!generation.cancelled) await writeJsonAtomic(path.join(options.outDir, SYNTH_FILES.summary), summary);
    return summary;
  } finally {
    await closeRank?.();
    log.close();
    await opened.close();
  }
}

function checkedType(id: string): QueryType {
  try {
    return queryType(id);
  } catch {
    throw new SpecializeError(`Unknown query type "${id}".`, 'Use --types with a comma-separated list of: question, claim, title, keywords, search, msmarco, howto, error, identifier.');
  }
}

function toQuery(record: GenerationRecord): QueryRecord {
  return { passage_id: record.passage_id, type: record.type, query: record.query as string };
}

function missingEmbedder(): never {
  throw new Error('synth opened the index with its model, so an embedder is always present');
}

function describeProgress(progress: GenerationProgress): string {
  const drops = Object.entries(progress.dropped)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  const tokens = progress.promptTokens + progress.completionTokens;
  return `kept ${progress.kept}${drops ? `, dropped ${drops}` : ''}${progress.failed ? `, failed ${progress.failed}` : ''}, ${tokens} tokens`;
}

async function writeJsonLines(file: string, rows: readonly unknown[]): Promise<void> {
  await writeFileAtomic(file, rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
}
