import { SpecializeError } from './errors';
import { Embedder } from './embed/embedder';
import { resolveModel } from './models/resolver';
import type { ProgressListener } from './progress';
import { Searcher } from './search/searcher';
import { Store } from './store/store';
import { scanSettings, WorkspaceIndex, type IndexReport, type WorkspaceIndexOptions } from './workspaceIndex';

export type IndexFoldersOptions = WorkspaceIndexOptions;
export type IndexFoldersReport = IndexReport;

/** One-shot indexing (the CLI's `index`): open the workspace index, bring it up to date, close it. */
export async function indexFolders(options: IndexFoldersOptions): Promise<IndexFoldersReport> {
  const index = await WorkspaceIndex.open(options);
  try {
    return await index.indexAll();
  } finally {
    await index.close();
  }
}

export { scanSettings };

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
