import { SpecializeError } from './errors';
import { Embedder, type Precision } from './embed/embedder';
import { TextTokenizer } from './embed/tokenize';
import { collectPassages } from './ingest/collectPassages';
import { resolveRoots } from './ingest/scan/roots';
import type { ScanTally } from './ingest/scan/tally';
import { TokenBudget } from './ingest/tokenBudget';
import type { ScanOptions } from './ingest/types';
import { DEFAULT_MODEL_ID } from './models/packaged';
import { resolveModel } from './models/resolver';
import type { ProgressListener } from './progress';
import { Searcher } from './search/searcher';
import { fileKey, Store, type SyncSummary, type VectorSummary } from './store/store';

export interface WorkspaceIndexOptions extends Omit<ScanOptions, 'signal'> {
  folders: readonly string[];
  storeDir: string;
  model?: string;
  precision?: Precision;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface IndexReport {
  store: string;
  scan: ScanTally;
  /** Passages produced by the files this run read. */
  passageCount: number;
  passages: SyncSummary;
  vectors: VectorSummary;
  seconds: number;
}

interface RunOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/**
 * One workspace's index kept open: model, tokenizer budget, store and embedder. `indexAll` brings
 * the store in line with the folders; `update` does the same for a few changed files (a watcher's
 * batch), re-reading and re-embedding only those, so a saved file is searchable again at once.
 */
export class WorkspaceIndex {
  private constructor(
    private readonly options: WorkspaceIndexOptions,
    readonly roots: readonly string[],
    readonly store: Store,
    readonly embedder: Embedder,
    private readonly budget: TokenBudget,
    private readonly modelId: string,
    /** The active model when it is a version tuned from this index's model (see `openTuned`). */
    private readonly tuned?: { embedder: Embedder; modelId: string },
  ) {}

  static async open(options: WorkspaceIndexOptions): Promise<WorkspaceIndex> {
    const common = runOptions(options);
    // Bad folders are reported before anything slow (or any download) starts.
    const roots = (await resolveRoots(options.folders)).map((root) => root.path);
    const modelId = options.model ?? DEFAULT_MODEL_ID;
    // The model comes before the store, so a bad --model changes nothing on disk; its tokenizer
    // sets the passage size limit.
    const model = await resolveModel(modelId, { int8: options.precision === 'int8', ...common });
    const budget = new TokenBudget(TextTokenizer.fromModelDir(model.dir, model.conventions.maxSeqLength));
    const store = await Store.open(options.storeDir, { create: true });
    try {
      const embedder = await Embedder.create({ model, ...(options.precision ? { precision: options.precision } : {}), ...(options.threads ? { threads: options.threads } : {}) });
      try {
        const tuned = await openTuned(store, embedder.version, options);
        return new WorkspaceIndex(options, roots, store, embedder, budget, modelId, tuned);
      } catch (error) {
        await embedder.close();
        throw error;
      }
    } catch (error) {
      store.close();
      throw error;
    }
  }

  /** Scans every root, stores what changed, deletes passages of vanished files, embeds what is new. */
  async indexAll(run: RunOptions = {}): Promise<IndexReport> {
    return this.sync(undefined, run);
  }

  /** The same for the given files only (absolute paths); deleted or newly ignored files lose their passages. */
  async update(files: readonly string[], run: RunOptions = {}): Promise<IndexReport> {
    const scoped = files.flatMap((file) => {
      const root = this.roots.find((candidate) => file === candidate || file.startsWith(`${candidate}/`));
      return root && file !== root ? [{ root, path: file.slice(root.length + 1).split('\\').join('/') }] : [];
    });
    return this.sync(scoped, run);
  }

  /** Search with the active model: the tuned one when a version tuned from this index's model is active. */
  searcher(): Searcher {
    return new Searcher(this.store, this.tuned?.embedder ?? this.embedder);
  }

  async close(): Promise<void> {
    await this.tuned?.embedder.close();
    await this.embedder.close();
    this.store.close();
  }

  private async sync(files: { root: string; path: string }[] | undefined, run: RunOptions): Promise<IndexReport> {
    const started = performance.now();
    const common = { ...runOptions(this.options), ...runOptions(run) };
    const { passages, tally } = await collectPassages(this.roots, {
      ...scanSettings(this.options),
      budget: this.budget,
      ...(files ? { only: new Set(files.map((file) => fileKey(file.root, file.path))) } : {}),
      ...common,
    });
    const passageSummary = await this.store.syncPassages(passages, files ? { files, ...common } : { roots: this.roots, ...common });
    const vectors = await this.store.syncVectors(this.embedder, this.modelId, common);
    if (this.tuned) {
      // A promoted model tuned from this one stays active and follows the files too; the base's vectors
      // stay current as well, so rolling back (`specialize use`) is instant.
      await this.store.syncVectors(this.tuned.embedder, this.tuned.modelId, common);
    } else {
      // Indexing with a model says "search with this one" until told otherwise.
      await this.store.setActiveModel(vectors.version);
    }
    return { store: this.store.dir, scan: tally, passageCount: passages.length, passages: passageSummary, vectors, seconds: (performance.now() - started) / 1000 };
  }
}

/**
 * The store's active model when it was tuned from `baseVersion` (a promoted `specialize tune` run):
 * indexing keeps it active and embeds with it too, instead of switching search back to the base.
 */
async function openTuned(store: Store, baseVersion: string, options: WorkspaceIndexOptions): Promise<{ embedder: Embedder; modelId: string } | undefined> {
  const active = store.activeModel;
  if (!active || active.version === baseVersion || active.tunedFrom !== baseVersion) return undefined;
  const model = await resolveModel(active.modelId, { int8: active.precision === 'int8', ...runOptions(options) });
  const embedder = await Embedder.create({ model, precision: active.precision, ...(options.threads ? { threads: options.threads } : {}) });
  if (embedder.version !== active.version) {
    await embedder.close();
    throw new SpecializeError(
      `The active model ${active.modelId} has changed since it was embedded (index: ${active.version}, now: ${embedder.version}).`,
      `Switch back to the base with \`specialize use ${baseVersion} --store ${store.dir}\`, or tune again.`,
      'store-version',
    );
  }
  return { embedder, modelId: active.modelId };
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

function runOptions(options: RunOptions): RunOptions {
  return { ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) };
}
