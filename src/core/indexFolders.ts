import { SpecializeError } from './errors';
import { Embedder, type Precision } from './embed/embedder';
import { TextTokenizer } from './embed/tokenize';
import { collectPassages } from './ingest/collectPassages';
import { resolveRoots } from './ingest/scan/roots';
import type { ScanTally } from './ingest/scan/tally';
import { TokenBudget } from './ingest/tokenBudget';
import type { ScanOptions } from './ingest/types';
import { resolveModel } from './models/resolver';
import { DEFAULT_MODEL_ID } from './models/packaged';
import type { ProgressListener } from './progress';
import { Searcher } from './search/searcher';
import { Store, type SyncSummary, type VectorSummary } from './store/store';

export interface IndexFoldersOptions extends Omit<ScanOptions, 'signal'> {
  folders: readonly string[];
  storeDir: string;
  model?: string;
  precision?: Precision;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface IndexFoldersReport {
  store: string;
  scan: ScanTally;
  /** Passages now stored for these roots. */
  passageCount: number;
  passages: SyncSummary;
  vectors: VectorSummary;
  seconds: number;
}

/** Scans folders, stores their passages and embeds what changed, with one model version. */
export async function indexFolders(options: IndexFoldersOptions): Promise<IndexFoldersReport> {
  const started = performance.now();
  const common = { ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) };
  // Bad folders are reported before anything slow (or any download) starts.
  await resolveRoots(options.folders);
  const modelId = options.model ?? DEFAULT_MODEL_ID;
  // Resolve the model before touching the store, so a bad --model changes nothing on disk; its
  // tokenizer sets the passage size limit.
  const model = await resolveModel(modelId, { int8: options.precision === 'int8', ...common });
  const budget = new TokenBudget(TextTokenizer.fromModelDir(model.dir, model.conventions.maxSeqLength));
  const { passages, roots, tally } = await collectPassages(options.folders, { ...scanSettings(options), budget, ...common });
  const store = await Store.open(options.storeDir, { create: true });
  let embedder: Embedder | undefined;
  try {
    const passageSummary = await store.syncPassages(passages, { roots, ...common });
    embedder = await Embedder.create({ model, ...(options.precision ? { precision: options.precision } : {}), ...(options.threads ? { threads: options.threads } : {}) });
    const vectors = await store.syncVectors(embedder, modelId, common);
    // Indexing with a model says "search with this one" until told otherwise.
    await store.setActiveModel(vectors.version);
    return { store: store.dir, scan: tally, passageCount: passages.length, passages: passageSummary, vectors, seconds: (performance.now() - started) / 1000 };
  } finally {
    await embedder?.close();
    store.close();
  }
}

/** The scan settings of index options (include/exclude, size limit, default ignores). */
export function scanSettings(options: ScanOptions): ScanOptions {
  return {
    ...(options.include ? { include: options.include } : {}),
    ...(options.exclude ? { exclude: options.exclude } : {}),
    ...(options.maxFileBytes !== undefined ? { maxFileBytes: options.maxFileBytes } : {}),
    ...(options.defaultIgnores !== undefined ? { defaultIgnores: options.defaultIgnores } : {}),
  };
}

export interface OpenedSearch {
  store: Store;
  searcher: Searcher;
  embedder: Embedder | undefined;
  close(): Promise<void>;
}

/**
 * Opens an index for searching. Dense and hybrid search load the store's active model and check
 * that its files still produce the same vector space the index was built with.
 */
export async function openSearch(storeDir: string, options: { needsModel: boolean; threads?: number; signal?: AbortSignal; onProgress?: ProgressListener }): Promise<OpenedSearch> {
  const store = await Store.open(storeDir);
  let embedder: Embedder | undefined;
  try {
    if (options.needsModel) {
      const entry = store.activeModel;
      if (!entry) throw new SpecializeError(`The index at ${store.dir} has no embeddings yet.`, `Run \`specialize index <folder> --store ${storeDir}\` to finish it, or search with --mode bm25.`, 'not-found');
      const model = await resolveModel(entry.modelId, { int8: entry.precision === 'int8', ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
      const variant = entry.precision === 'int8' ? model.int8 : model.fp32;
      if (variant?.version !== entry.version) {
        throw new SpecializeError(
          `The model ${entry.modelId} has changed since the index was built (index: ${entry.version}, now: ${variant?.version ?? 'missing'}).`,
          `Re-embed with \`specialize index <folder> --store ${storeDir} --model ${entry.modelId}\`, or search with --mode bm25.`,
          'store-version',
        );
      }
      embedder = await Embedder.create({ model, precision: entry.precision, ...(options.threads ? { threads: options.threads } : {}) });
    }
    const opened = embedder;
    return {
      store,
      embedder,
      searcher: new Searcher(store, embedder),
      close: async () => {
        await opened?.close();
        store.close();
      },
    };
  } catch (error) {
    await embedder?.close();
    store.close();
    throw error;
  }
}
