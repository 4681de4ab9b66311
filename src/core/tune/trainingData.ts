import { seededShuffle } from '../synth/sampling';
import { CANDIDATES_PER_QUERY, scorePercentileFilter } from '../synth/filters';
import type { QueryRecord, WithCandidates } from '../synth/filterTypes';

/** A training query as teacher/score gets it: qid, text, type and candidates (source first). */
export interface TeacherInputLine {
  qid: string;
  query: string;
  type: string;
  candidates: string[];
  /** BM25 score of each candidate, for a teacher with a lexical member. */
  lexical?: number[];
}

/** What teacher/score writes for each query: raw scores and scores normalised per query type. */
export interface TeacherScoreLine {
  qid: string;
  candidates: string[];
  raw: number[];
  scores: number[];
}

/** A line of train.jsonl / dev.jsonl for train/run: candidates by teacher score, the source first. */
export interface TrainingLine {
  qid: string;
  query: string;
  candidates: string[];
  scores: number[];
}

export type TrainQuery = QueryRecord & WithCandidates & { qid: string };

/** The share of filtered queries kept for the dev loss (method: 90/10 by query, seed 42). */
export const DEV_SHARE = 0.1;
export const SPLIT_SEED = 42;

/** The candidate list a training query is scored on: its source passage first, then the student's others. */
export function sourceFirst(passageId: string, candidates: readonly string[], limit = CANDIDATES_PER_QUERY): string[] {
  return [passageId, ...candidates.filter((id) => id !== passageId)].slice(0, limit);
}

export interface TrainingSplit {
  train: TrainingLine[];
  dev: TrainingLine[];
  dropped: Record<string, number>;
}

/**
 * Method step 4 after the teacher has scored: the teacher filter (the source passage must score at
 * least as high as every other candidate; raw scores, which clipping has not tied), the score filter
 * (25th percentile of each query type's top raw scores), candidates ordered by the teacher with the
 * source first and cut to `candidates` (the method: 20), then a seeded 90/10 split by query.
 */
export function splitTrainingData(queries: readonly TrainQuery[], scores: ReadonlyMap<string, TeacherScoreLine>, candidates = CANDIDATES_PER_QUERY): TrainingSplit {
  const dropped: Record<string, number> = {};
  const drop = (reason: string) => (dropped[reason] = (dropped[reason] ?? 0) + 1);
  const scored: (TrainQuery & { teacherScores: number[]; normalised: number[] })[] = [];
  for (const query of queries) {
    const line = scores.get(query.qid);
    if (!line) throw new Error(`teacher scores are missing for query ${query.qid}`);
    const sourceIndex = line.candidates.indexOf(query.passage_id);
    const source = line.raw[sourceIndex];
    if (source === undefined) throw new Error(`the teacher did not score the source passage of query ${query.qid}`);
    if (line.raw.some((raw) => raw > source)) {
      drop('teacher-prefers-other');
      continue;
    }
    scored.push({ ...query, candidates: line.candidates, teacherScores: line.raw, normalised: line.scores });
  }
  const filtered = scorePercentileFilter(scored);
  for (const item of filtered.dropped) drop(item.reason);

  const lines: TrainingLine[] = filtered.kept.map((item) => {
    const order = item.candidates.map((id, index) => ({ id, score: item.normalised[index] as number, raw: item.teacherScores[index] as number }));
    const source = order.find((entry) => entry.id === item.passage_id) as { id: string; score: number };
    const others = order.filter((entry) => entry.id !== item.passage_id).sort((a, b) => b.raw - a.raw);
    const ranked = [source, ...others].slice(0, candidates);
    return { qid: item.qid, query: item.query, candidates: ranked.map((entry) => entry.id), scores: ranked.map((entry) => entry.score) };
  });
  const shuffled = seededShuffle(lines, SPLIT_SEED);
  const devCount = lines.length >= 10 ? Math.max(1, Math.round(lines.length * DEV_SHARE)) : 0;
  return { dev: shuffled.slice(0, devCount), train: shuffled.slice(devCount), dropped };
}
