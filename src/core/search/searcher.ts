import { SpecializeError } from '../errors';
import type { Embedder } from '../embed/embedder';
import { vectorDistance } from '../models/conventions';
import type { StoredPassage } from '../store/schema';
import type { ScoredId, Store } from '../store/store';
import { fuseReciprocalRank, RRF_K } from './rrf';
import type { SearchMode, SearchResult } from './result';
import { makeSnippet } from './snippet';

export { SEARCH_MODES, type SearchMode, type SearchResult } from './result';

export interface SearchOptions {
  mode?: SearchMode;
  k?: number;
  /** Skip the ANN index and scan every vector (evaluation does this). */
  exact?: boolean;
  /** Hybrid weights of the dense and BM25 lists in reciprocal rank fusion. */
  denseWeight?: number;
  bm25Weight?: number;
  /** How deep each list goes before fusion; defaults to max(k, 30). */
  depth?: number;
  /** A query embedding computed in advance (batched), instead of embedding the text here. */
  queryVector?: Float32Array;
  signal?: AbortSignal;
}

/** Longer queries are almost certainly a mistake (a pasted file); models read a few hundred tokens at most. */
export const MAX_QUERY_CHARS = 4096;

/** Dense, BM25 and hybrid search over one store, with one model version for the dense side. */
export class Searcher {
  constructor(
    private readonly store: Store,
    private readonly embedder: Embedder | undefined,
  ) {}

  /** Ranked ids with scores, without fetching passage text (what evaluation needs). */
  async rank(query: string, options: SearchOptions = {}): Promise<{ id: string; score: number; scores: SearchResult['scores'] }[]> {
    const text = validateQuery(query);
    const mode = options.mode ?? 'hybrid';
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1 || k > 10_000) throw new SpecializeError(`--k ${k} is out of range.`, 'Use a whole number between 1 and 10000.', 'invalid-input');
    // Documents below rank 30 add at most 1/91 to a fused score: deeper lists cost more than they change.
    const depth = Math.max(k, options.depth ?? 30);
    if (mode === 'bm25') {
      const results = await this.store.searchBm25(text, k);
      return results.map((r, i) => ({ id: r.id, score: r.score, scores: { bm25: r.score, bm25Rank: i + 1 } }));
    }
    if (mode === 'dense') {
      const results = await this.dense(text, k, options);
      return results.map((r, i) => ({ id: r.id, score: r.score, scores: { dense: r.score, denseRank: i + 1 } }));
    }
    // Embed first, then let LanceDB's native threads search the vectors while BM25 scores on this
    // thread: BM25 is synchronous work, and started earlier it would delay the dense search.
    const vector = options.queryVector ?? (await this.embedQuery(text, options.signal));
    const densePending = this.dense(text, depth, { ...options, queryVector: vector });
    const bm25 = await this.store.searchBm25(text, depth);
    const dense = await densePending;
    const denseScore = new Map(dense.map((r) => [r.id, r.score]));
    const bm25Score = new Map(bm25.map((r) => [r.id, r.score]));
    const fused = fuseReciprocalRank(
      [
        { results: dense, weight: options.denseWeight ?? 1 },
        { results: bm25, weight: options.bm25Weight ?? 1 },
      ],
      RRF_K,
    );
    return fused.slice(0, k).map((r) => ({
      id: r.id,
      score: r.score,
      scores: {
        rrf: r.score,
        ...(denseScore.has(r.id) ? { dense: denseScore.get(r.id) as number, denseRank: r.ranks[0] as number } : {}),
        ...(bm25Score.has(r.id) ? { bm25: bm25Score.get(r.id) as number, bm25Rank: r.ranks[1] as number } : {}),
      },
    }));
  }

  /** Ranked results with path, line range, snippet and every score. */
  async search(query: string, options: SearchOptions = {}): Promise<SearchResult[]> {
    const ranked = await this.rank(query, options);
    const passages = await this.store.fetchPassages(ranked.map((r) => r.id));
    return ranked.flatMap((r) => {
      const passage = passages.get(r.id);
      return passage ? [toResult(passage, query, r.score, r.scores)] : [];
    });
  }

  private async embedQuery(query: string, signal: AbortSignal | undefined): Promise<Float32Array> {
    if (!this.embedder) throw new Error('dense search needs an embedder');
    return this.embedder.embedOne(query, 'query', signal);
  }

  private async dense(query: string, k: number, options: SearchOptions): Promise<ScoredId[]> {
    if (!this.embedder) throw new Error('dense search needs an embedder');
    const vector = options.queryVector ?? (await this.embedQuery(query, options.signal));
    return this.store.searchDense(this.embedder.version, vector, k, { exact: options.exact ?? false, distance: vectorDistance(this.embedder.model.conventions) });
  }
}

export function validateQuery(query: string): string {
  const text = query.trim();
  if (text === '') throw new SpecializeError('The query is empty.', 'Type some words to search for.', 'invalid-input');
  if (text.length > MAX_QUERY_CHARS) {
    throw new SpecializeError(
      `The query is ${text.length.toLocaleString('en-US')} characters long; the limit is ${MAX_QUERY_CHARS.toLocaleString('en-US')}.`,
      'Shorten it to the words you are looking for (the model reads only its first few hundred tokens anyway).',
      'invalid-input',
    );
  }
  return text;
}

function toResult(passage: StoredPassage, query: string, score: number, scores: SearchResult['scores']): SearchResult {
  const snippet = makeSnippet(passage.text, query);
  return {
    id: passage.id,
    root: passage.root,
    path: passage.path,
    title: passage.title,
    startLine: passage.start_line,
    endLine: passage.end_line,
    snippet: snippet.text,
    snippetLine: passage.start_line === null ? null : passage.start_line + snippet.lineOffset,
    score,
    scores,
  };
}
