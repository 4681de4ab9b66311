import type { Embedder } from '../embed/embedder';
import { meanMetrics, scoreQuery, type MetricSummary, type PerQueryMetrics } from '../eval/metrics';
import { Searcher } from '../search/searcher';
import type { Store } from '../store/store';
import { rankInMemory } from '../synth/studentRank';

/** A held-out synthetic query: written for a passage no training list ever contains. */
export interface HeldOutQuery {
  qid: string;
  passage_id: string;
  type: string;
  query: string;
}

/** Depth of the rankings kept for evaluation (Recall@100). */
export const EVAL_DEPTH = 100;

/** Exact top-`k` passage ids of each query under one model version (the embedder's). */
export async function rankAll(store: Store, embedder: Embedder, queries: readonly string[], k = EVAL_DEPTH, options: { threads?: number; signal?: AbortSignal } = {}): Promise<string[][]> {
  const rank = rankInMemory(store, new Searcher(store, embedder), embedder, options);
  try {
    const ranked: string[][] = [];
    // Batches keep progress and memory steady; the in-memory search loads the vectors once.
    for (let start = 0; start < queries.length; start += 256) ranked.push(...(await rank(queries.slice(start, start + 256), k)));
    return ranked;
  } finally {
    await rank.close();
  }
}

/** Per-query metrics of rankings where each query's one relevant passage is its source. */
export function scoreAgainstSources(queries: readonly HeldOutQuery[], rankings: readonly (readonly string[])[]): PerQueryMetrics[] {
  return queries.map((query, index) => scoreQuery(query.qid, rankings[index] ?? [], new Map([[query.passage_id, 1]])));
}

export function summarise(perQuery: readonly PerQueryMetrics[]): MetricSummary {
  return meanMetrics(perQuery);
}

/**
 * The teacher's ranking of each query's candidates by raw score (ties keep the student's order, so a
 * teacher that cannot tell passages apart scores exactly as the student).
 */
export function teacherOrder(candidates: readonly string[], raw: readonly number[]): string[] {
  return candidates
    .map((id, index) => ({ id, index, score: raw[index] ?? Number.NEGATIVE_INFINITY }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .map((entry) => entry.id);
}
