import { fuseReciprocalRank } from '../search/rrf';

/**
 * Where a training query's candidates come from: the student's own top 20 (the method's default), or
 * that fused by reciprocal rank (k = 60) with BM25's top 20, as the method's scripts fuse several
 * retrievers before teacher scoring. BM25 adds lexical near-misses the student ranks low, so the
 * teacher sees — and the student is taught about — negatives of another kind.
 */
export type CandidateSource = 'student' | 'student+bm25';

export const CANDIDATE_SOURCES: readonly CandidateSource[] = ['student', 'student+bm25'];

/**
 * The RRF fusion of two rankings (best first), held-out passages removed from both, each cut to
 * `depth`; the student's list first, so ties keep its order.
 */
export function fuseCandidates(student: readonly string[], lexical: readonly string[], heldOut: ReadonlySet<string>, depth: number): string[] {
  const asList = (ids: readonly string[]) => ({ results: ids.filter((id) => !heldOut.has(id)).slice(0, depth).map((id) => ({ id, score: 0 })), weight: 1 });
  return fuseReciprocalRank([asList(student), asList(lexical)]).map((result) => result.id);
}
