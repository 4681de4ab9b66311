import * as fs from 'node:fs';
import * as path from 'node:path';
import { isSpecializeError, throwIfAborted } from '../errors';
import { Embedder, type Precision } from '../embed/embedder';
import { resolveModel } from '../models/resolver';
import type { ProgressListener } from '../progress';
import { Searcher, type SearchMode } from '../search/searcher';
import { Store, type PassageInput } from '../store/store';
import { sha256Hex } from '../util/hash';
import { specializeHome } from '../util/paths';
import { loadBeirDataset } from './beir';
import { meanMetrics, scoreQuery, type MetricSummary, type PerQueryMetrics } from './metrics';

export interface EvalOptions {
  dataset: string;
  mode: SearchMode;
  /** Model id or folder; ignored for bm25. */
  model: string;
  precision?: Precision;
  threads?: number;
  /** Where the collection's index is kept; defaults to a cache folder keyed by the corpus. */
  storeDir?: string;
  split?: string;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface EvalReport extends MetricSummary {
  dataset: string;
  mode: SearchMode;
  model: string | null;
  modelVersion: string | null;
  queries: number;
  seconds: number;
  perQuery: PerQueryMetrics[];
}

/** Results per query: deep enough for Recall@100. */
const EVAL_DEPTH = 100;

/**
 * Indexes a BEIR collection and scores its human queries: exact search over the whole corpus, as
 * the method prescribes, so numbers are comparable across models and runs. The index is cached,
 * and only what changed (corpus or model) is rebuilt.
 */
export async function runEval(options: EvalOptions): Promise<EvalReport> {
  const started = performance.now();
  const dataset = await loadBeirDataset(options.dataset, options.split);
  throwIfAborted(options.signal, 'evaluation');
  const store = options.storeDir ? await Store.open(options.storeDir, { create: true }) : await openCachedStore(await defaultEvalStore(dataset.dir, dataset.name));
  let embedder: Embedder | undefined;
  try {
    const passages: PassageInput[] = dataset.corpus.map((doc) => ({ id: doc.id, root: dataset.name, path: doc.id, title: doc.title, text: doc.text }));
    await store.syncPassages(passages, { ...signalAndProgress(options) });

    if (options.mode !== 'bm25') {
      const model = await resolveModel(options.model, { int8: options.precision === 'int8', ...signalAndProgress(options) });
      embedder = await Embedder.create({ model, ...(options.precision ? { precision: options.precision } : {}), ...(options.threads ? { threads: options.threads } : {}) });
      await store.syncVectors(embedder, options.model, signalAndProgress(options));
    }
    const searcher = new Searcher(store, embedder);
    const vectors = embedder
      ? await embedder.embed(
          dataset.queries.map((q) => q.text),
          'query',
          { ...(options.signal ? { signal: options.signal } : {}), onProgress: (done, total) => options.onProgress?.({ stage: 'embed queries', done, total, unit: 'queries' }) },
        )
      : [];
    const perQuery: PerQueryMetrics[] = [];
    for (const [index, query] of dataset.queries.entries()) {
      throwIfAborted(options.signal, 'evaluation');
      const ranked = await searcher.rank(query.text, { mode: options.mode, k: EVAL_DEPTH, exact: true, ...(vectors[index] ? { queryVector: vectors[index] } : {}) });
      perQuery.push(scoreQuery(query.id, ranked.map((r) => r.id), dataset.qrels.get(query.id) ?? new Map()));
      options.onProgress?.({ stage: 'search queries', done: index + 1, total: dataset.queries.length, unit: 'queries' });
    }
    return {
      dataset: dataset.name,
      mode: options.mode,
      model: embedder ? options.model : null,
      modelVersion: embedder?.version ?? null,
      queries: perQuery.length,
      ...meanMetrics(perQuery),
      seconds: (performance.now() - started) / 1000,
      perQuery,
    };
  } finally {
    await embedder?.close();
    store.close();
  }
}

/** The default store is only a cache: if another version of Specialize wrote it, rebuild it. */
async function openCachedStore(dir: string): Promise<Store> {
  try {
    return await Store.open(dir, { create: true });
  } catch (error) {
    if (!isSpecializeError(error) || (error.code !== 'store-version' && error.code !== 'store-invalid')) throw error;
    await fs.promises.rm(dir, { recursive: true, force: true });
    return Store.open(dir, { create: true });
  }
}

/** One cached index per corpus file (path, size and mtime), under SPECIALIZE_HOME/eval. */
async function defaultEvalStore(datasetDir: string, name: string): Promise<string> {
  const corpus = path.join(datasetDir, 'corpus.jsonl');
  const stat = await fs.promises.stat(corpus);
  const key = sha256Hex(`${corpus}\n${stat.size}\n${stat.mtimeMs}`).slice(0, 12);
  return path.join(specializeHome(), 'eval', `${name}-${key}`);
}

function signalAndProgress(options: EvalOptions): { signal?: AbortSignal; onProgress?: ProgressListener } {
  return { ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) };
}
