import { throwIfAborted } from '../errors';
import type { Embedder } from '../embed/embedder';
import { vectorDistance } from '../models/conventions';
import { BatchExactSearch } from '../search/batchExactSearch';
import { MAX_QUERY_CHARS, type Searcher } from '../search/searcher';
import type { Store } from '../store/store';
import type { StudentRank } from './filterTypes';

export interface StudentRankOptions {
  signal?: AbortSignal;
}

/**
 * The student's ranking for the round-trip filter and the candidate lists: each batch of queries is
 * embedded in one call (sorted by length into efficient batches, as evaluation does), then searched
 * exactly over every passage vector, as the method prescribes (an approximate index could miss the
 * source passage and drop a good query).
 *
 * `embedder` must be the one the searcher searches with: query vectors from another model version
 * would be compared against passage vectors of a different space.
 *
 * A query the searcher would refuse (empty, or longer than any real query) gets an empty list and
 * so fails the round trip, rather than failing the whole batch.
 */
export function rankWithSearcher(searcher: Searcher, embedder: Embedder, options: StudentRankOptions = {}): StudentRank {
  return async (queryTexts, k) => {
    const texts = queryTexts.map((text) => text.trim());
    const searchable = texts.map((text) => text !== '' && text.length <= MAX_QUERY_CHARS);
    const vectors = await embedder.embed(
      texts.filter((_, index) => searchable[index]),
      'query',
      options.signal ? { signal: options.signal } : {},
    );
    const results: string[][] = [];
    let nextVector = 0;
    for (const [index, text] of texts.entries()) {
      throwIfAborted(options.signal, 'student search');
      if (!searchable[index]) {
        results.push([]);
        continue;
      }
      const queryVector = vectors[nextVector++] as Float32Array;
      const ranked = await searcher.rank(text, { mode: 'dense', k, exact: true, queryVector });
      results.push(ranked.map((r) => r.id));
    }
    return results;
  };
}

/**
 * The same ranking as `rankWithSearcher`, computed in memory: every passage vector of the
 * embedder's model version is loaded once, and each batch of queries is one matrix product per
 * block of passages (BatchExactSearch). Hundreds of thousands of round-trip queries at 100k
 * passages take minutes this way instead of hours of one flat scan per query. Models ranked by L2
 * distance (rare) keep the searcher's path.
 */
export function rankInMemory(store: Store, searcher: Searcher, embedder: Embedder, options: StudentRankOptions & { threads?: number } = {}): StudentRank & { close(): Promise<void> } {
  if (vectorDistance(embedder.model.conventions) === 'l2') return Object.assign(rankWithSearcher(searcher, embedder, options), { close: async () => undefined });
  let loaded: Promise<{ ids: string[]; search: BatchExactSearch }> | undefined;
  const load = () =>
    (loaded ??= store.readVectors(embedder.version).then(async ({ ids, vectors }) => ({ ids, search: await BatchExactSearch.create(vectors, options.threads ? { threads: options.threads } : {}) })));
  const rank = async (queryTexts: readonly string[], k: number): Promise<string[][]> => {
    const texts = queryTexts.map((text) => text.trim());
    const searchable = texts.map((text) => text !== '' && text.length <= MAX_QUERY_CHARS);
    const [{ ids, search }, vectors] = await Promise.all([
      load(),
      embedder.embed(
        texts.filter((_, index) => searchable[index]),
        'query',
        options.signal ? { signal: options.signal } : {},
      ),
    ]);
    throwIfAborted(options.signal, 'student search');
    const found = await search.search(vectors, k);
    let next = 0;
    return searchable.map((ok) => (ok ? (found[next++] ?? []).map((hit) => ids[hit.index] as string) : []));
  };
  return Object.assign(rank, { close: async () => (loaded ? (await loaded).search.close() : undefined) });
}
