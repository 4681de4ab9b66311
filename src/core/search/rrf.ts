import type { ScoredId } from '../store/store';

export interface RankedList {
  results: readonly ScoredId[];
  /** Multiplies this list's reciprocal-rank contribution. */
  weight: number;
}

export interface FusedResult {
  id: string;
  score: number;
  /** 1-based rank in each input list, or null where the id is absent. */
  ranks: (number | null)[];
}

/** The constant of reciprocal rank fusion (Cormack et al. 2009): damps the top ranks' dominance. */
export const RRF_K = 60;

/**
 * Weighted reciprocal rank fusion: score(d) = Σ_i w_i / (k + rank_i(d)) over the lists that
 * contain d. Ties keep the order of first appearance, so results are deterministic.
 */
export function fuseReciprocalRank(lists: readonly RankedList[], k = RRF_K): FusedResult[] {
  const fused = new Map<string, FusedResult>();
  lists.forEach((list, listIndex) => {
    list.results.forEach((result, position) => {
      let entry = fused.get(result.id);
      if (!entry) {
        entry = { id: result.id, score: 0, ranks: lists.map(() => null) };
        fused.set(result.id, entry);
      }
      if (entry.ranks[listIndex] !== null) return;
      entry.ranks[listIndex] = position + 1;
      entry.score += list.weight / (k + position + 1);
    });
  });
  return [...fused.values()].sort((a, b) => b.score - a.score);
}
