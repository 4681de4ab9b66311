import { throwIfAborted } from '../errors';
import type { Dropped, FilterResult, QueryRecord, StudentRank, TeacherScore, WithCandidates, WithTeacherScores } from './filterTypes';

/**
 * The method's three query filters (pipeline step 4), each a separate step so a run can report
 * what each one removed, and so an experiment can switch one off to measure it. An LLM writes
 * some queries that are vague, wrong, or answered better by another passage; trained on, they
 * teach the student to rank the wrong passage first.
 */

/** Candidates per query: the student's top 20 (the method). */
export const CANDIDATES_PER_QUERY = 20;
/** Queries per call of `rank`: large enough to embed efficiently, small enough for steady progress. */
export const ROUND_TRIP_BATCH = 256;
/** The score filter's default threshold: the 25th percentile of a group's top scores. */
export const SCORE_PERCENTILE = 25;

export interface RoundTripOptions {
  rank: StudentRank;
  k?: number;
  batchSize?: number;
  /**
   * Passages whose queries form the synthetic evaluation set. They are removed from every
   * candidate list, so no held-out passage is ever trained on, even as a negative.
   */
  heldOutIds?: ReadonlySet<string>;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Round-trip filter: keeps a query only if the student, searching the whole corpus exactly, finds
 * its source passage among the top k. A query the student cannot trace back to its passage is
 * usually one the passage does not really answer. Every query comes back with its candidates (the
 * top k minus held-out passages), which later become its training list.
 */
export async function roundTripFilter<T extends QueryRecord>(queries: readonly T[], options: RoundTripOptions): Promise<FilterResult<T & WithCandidates>> {
  const k = options.k ?? CANDIDATES_PER_QUERY;
  const batchSize = options.batchSize ?? ROUND_TRIP_BATCH;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a whole number ≥ 1, got ${k}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a whole number ≥ 1, got ${batchSize}`);
  const heldOut = options.heldOutIds ?? new Set<string>();
  const kept: (T & WithCandidates)[] = [];
  const dropped: Dropped<T & WithCandidates>[] = [];

  // A held-out passage's queries are evaluation queries: with the passage removed from its own
  // candidate list they could not be trained on anyway, so they are not searched.
  const searchable: T[] = [];
  for (const query of queries) {
    if (heldOut.has(query.passage_id)) dropped.push({ ...query, candidates: [], reason: 'source-held-out' });
    else searchable.push(query);
  }

  options.onProgress?.(0, searchable.length);
  for (let start = 0; start < searchable.length; start += batchSize) {
    throwIfAborted(options.signal, 'round-trip filter');
    const batch = searchable.slice(start, start + batchSize);
    const ranked = await options.rank(
      batch.map((q) => q.query),
      k,
    );
    if (ranked.length !== batch.length) throw new Error(`rank returned ${ranked.length} result lists for ${batch.length} queries`);
    batch.forEach((query, index) => {
      // The check uses the raw top k: held-out passages were in the index the student searched.
      const topK = (ranked[index] as string[]).slice(0, k);
      const item = { ...query, candidates: topK.filter((id) => !heldOut.has(id)) };
      if (topK.includes(query.passage_id)) kept.push(item);
      else dropped.push({ ...item, reason: 'not-in-student-top-k' });
    });
    options.onProgress?.(Math.min(start + batchSize, searchable.length), searchable.length);
  }
  return { kept, dropped };
}

export interface TeacherFilterOptions {
  score: TeacherScore;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Teacher filter: keeps a query only if the teacher scores its source passage at least as high as
 * every other candidate (a tie keeps it: the teacher does not prefer another passage). When the
 * teacher prefers another candidate, the query is ambiguous or that passage answers it better, and
 * training would push a better answer down. The source is scored even if the candidates lack it;
 * the result's candidates then start with it, and `teacherScores` is aligned with the candidates.
 */
export async function teacherFilter<T extends QueryRecord & WithCandidates>(items: readonly T[], options: TeacherFilterOptions): Promise<FilterResult<T & WithTeacherScores>> {
  const kept: (T & WithTeacherScores)[] = [];
  const dropped: Dropped<T & WithTeacherScores>[] = [];
  options.onProgress?.(0, items.length);
  for (const [index, item] of items.entries()) {
    throwIfAborted(options.signal, 'teacher filter');
    const candidates = item.candidates.includes(item.passage_id) ? [...item.candidates] : [item.passage_id, ...item.candidates];
    const teacherScores = await options.score(item.query, candidates);
    if (teacherScores.length !== candidates.length) throw new Error(`The teacher returned ${teacherScores.length} scores for ${candidates.length} passages`);
    if (!teacherScores.every(Number.isFinite)) throw new Error(`The teacher returned a score that is not a finite number for query ${JSON.stringify(item.query)}`);
    const sourceScore = teacherScores[candidates.indexOf(item.passage_id)] as number;
    const scored = { ...item, candidates, teacherScores };
    if (teacherScores.every((score) => score <= sourceScore)) kept.push(scored);
    else dropped.push({ ...scored, reason: 'teacher-prefers-other' });
    options.onProgress?.(index + 1, items.length);
  }
  return { kept, dropped };
}

export interface ScorePercentileOptions<T> {
  /** Percentile of a group's top scores under which a query is dropped (0–100). The method: 25. */
  percentile?: number;
  /**
   * The group whose top scores set the threshold. The method's group is a (dataset, query type,
   * retriever) file; here there is one corpus and one student, so the default is the query type:
   * teacher scores of titles and of questions are not on the same footing.
   */
  groupBy?: (item: T) => string;
}

/**
 * Score filter: drops a query whose best teacher score is below the given percentile (25th) of the
 * best scores in its group. Even when the source passage ranks first, a low absolute score says
 * the teacher finds the pair weakly relevant, and the query is likely poor. Ties with the threshold stay.
 */
export function scorePercentileFilter<T extends QueryRecord & WithTeacherScores>(items: readonly T[], options: ScorePercentileOptions<T> = {}): FilterResult<T> {
  const p = options.percentile ?? SCORE_PERCENTILE;
  const groupBy = options.groupBy ?? ((item: T) => item.type);
  const topScores = items.map(topTeacherScore);
  const groupOf = items.map(groupBy);
  const groupScores = new Map<string, number[]>();
  items.forEach((_, index) => {
    const group = groupOf[index] as string;
    const scores = groupScores.get(group);
    if (scores) scores.push(topScores[index] as number);
    else groupScores.set(group, [topScores[index] as number]);
  });
  const thresholds = new Map([...groupScores].map(([group, scores]) => [group, percentile(scores, p)]));

  const kept: T[] = [];
  const dropped: Dropped<T>[] = [];
  items.forEach((item, index) => {
    if ((topScores[index] as number) < (thresholds.get(groupOf[index] as string) as number)) dropped.push({ ...item, reason: 'below-score-percentile' });
    else kept.push(item);
  });
  return { kept, dropped };
}

function topTeacherScore(item: WithTeacherScores): number {
  if (item.teacherScores.length === 0) throw new Error('A query reached the score filter without teacher scores; run the teacher filter first.');
  return Math.max(...item.teacherScores);
}

/**
 * The p-th percentile (0–100) by linear interpolation between the two nearest ranks: numpy's
 * default (`np.percentile(values, p)`, method 'linear', Hyndman & Fan type 7). The sorted values
 * sit at positions 0…n−1 and the percentile at position (n−1)·p/100. The interpolation is
 * computed exactly as numpy does (from the upper neighbour when the fraction is ≥ 0.5), so results
 * agree with numpy to the last bit.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be between 0 and 100, got ${p}`);
  if (!values.every((v) => !Number.isNaN(v))) throw new RangeError('percentile of values that include NaN');
  const sorted = Float64Array.from(values).sort();
  const position = (sorted.length - 1) * (p / 100);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const fraction = position - below;
  const low = sorted[below] as number;
  const high = sorted[above] as number;
  const difference = high - low;
  return fraction >= 0.5 ? high - difference * (1 - fraction) : low + difference * fraction;
}
