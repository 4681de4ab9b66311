/**
 * Retrieval metrics as the method defines them: nDCG@10 with graded (linear) gains and a
 * log2(rank + 1) discount, Recall@100 and MRR@10. Judgements with a gain ≤ 0 count as non-relevant
 * (Cranfield marks each query's source paper -1).
 */

/** Relevance judgements of one query: document id → graded gain. */
export type Judgements = ReadonlyMap<string, number>;

export function ndcgAtK(ranked: readonly string[], judgements: Judgements, k = 10): number {
  const ideal = [...judgements.values()]
    .filter((gain) => gain > 0)
    .sort((a, b) => b - a)
    .slice(0, k);
  const idcg = discountedSum(ideal);
  if (idcg === 0) return 0;
  const gains = ranked.slice(0, k).map((id) => Math.max(0, judgements.get(id) ?? 0));
  return discountedSum(gains) / idcg;
}

export function recallAtK(ranked: readonly string[], judgements: Judgements, k = 100): number {
  const relevant = relevantIds(judgements);
  if (relevant.size === 0) return 0;
  let found = 0;
  for (const id of new Set(ranked.slice(0, k))) if (relevant.has(id)) found += 1;
  return found / relevant.size;
}

export function mrrAtK(ranked: readonly string[], judgements: Judgements, k = 10): number {
  const relevant = relevantIds(judgements);
  const index = ranked.slice(0, k).findIndex((id) => relevant.has(id));
  return index < 0 ? 0 : 1 / (index + 1);
}

export interface MetricSummary {
  'ndcg@10': number;
  'recall@100': number;
  'mrr@10': number;
}

/** Per-query scores, so callers can also run paired statistics on them. */
export interface PerQueryMetrics extends MetricSummary {
  queryId: string;
}

export function scoreQuery(queryId: string, ranked: readonly string[], judgements: Judgements): PerQueryMetrics {
  return {
    queryId,
    'ndcg@10': ndcgAtK(ranked, judgements, 10),
    'recall@100': recallAtK(ranked, judgements, 100),
    'mrr@10': mrrAtK(ranked, judgements, 10),
  };
}

export function meanMetrics(perQuery: readonly MetricSummary[]): MetricSummary {
  const n = perQuery.length;
  const mean = (key: keyof MetricSummary) => (n === 0 ? 0 : perQuery.reduce((sum, q) => sum + q[key], 0) / n);
  return { 'ndcg@10': mean('ndcg@10'), 'recall@100': mean('recall@100'), 'mrr@10': mean('mrr@10') };
}

function discountedSum(gains: readonly number[]): number {
  return gains.reduce((sum, gain, index) => sum + gain / Math.log2(index + 2), 0);
}

function relevantIds(judgements: Judgements): Set<string> {
  const ids = new Set<string>();
  for (const [id, gain] of judgements) if (gain > 0) ids.add(id);
  return ids;
}
