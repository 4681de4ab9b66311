import { throwIfAborted } from '../errors';
import type { Embedder } from '../embed/embedder';
import { MAX_QUERY_CHARS, type Searcher } from '../search/searcher';
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
