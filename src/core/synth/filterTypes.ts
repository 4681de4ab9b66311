/** The records the query filters (method, pipeline step 4) pass along and annotate. */

/** One synthetic query and the passage it was written from. */
export interface QueryRecord {
  passage_id: string;
  /** The query type's id (question, claim, title, …). */
  type: string;
  query: string;
}

/** A query with the student's candidate passages: exact top-k ids, best first, held-out ids removed. */
export interface WithCandidates {
  candidates: string[];
}

/** Teacher scores aligned with `candidates` (which then always include the source passage). */
export interface WithTeacherScores extends WithCandidates {
  teacherScores: number[];
}

export type DropReason =
  /** Round-trip: the student did not retrieve the source passage in its top k. */
  | 'not-in-student-top-k'
  /** The source passage is held out for evaluation, so the query cannot be a training query. */
  | 'source-held-out'
  /** Teacher: another candidate scored above the source passage. */
  | 'teacher-prefers-other'
  /** Score: the top teacher score is below the group's percentile threshold. */
  | 'below-score-percentile';

export type Dropped<T> = T & { reason: DropReason };

export interface FilterResult<T> {
  kept: T[];
  dropped: Dropped<T>[];
}

/**
 * The student's exact top-k passage ids for each query text, in input order, best first. Called
 * with a batch of queries, so the implementation can embed them together.
 */
export type StudentRank = (queryTexts: readonly string[], k: number) => Promise<string[][]>;

/** Teacher relevance scores of one query against passages, aligned with `passageIds`; higher is more relevant. */
export type TeacherScore = (query: string, passageIds: readonly string[]) => Promise<number[]>;
