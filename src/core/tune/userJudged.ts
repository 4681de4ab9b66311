import * as fs from 'node:fs';
import type { BootstrapInterval } from '../eval/bootstrap';
import { scoreQuery, type MetricSummary, type PerQueryMetrics } from '../eval/metrics';
import { judgedQueries } from '../judgements/judgementLog';
import type { Store } from '../store/store';
import { readJsonLines } from './jsonl';

/** The run folder's snapshot of the user-judged queries, written by the `user-judged` stage. */
export const USER_JUDGED_FILE = 'user_judged.jsonl';

/**
 * Queries the user judged in the search view, as a tuning run evaluates them: each with the passages
 * marked (1 relevant, 0 not) and the base model's ranking. Only queries with a relevant passage still
 * in the index count; the others cannot be scored.
 */
export interface UserJudgedQuery {
  qid: string;
  query: string;
  /** Passage id → gain. */
  judgements: Record<string, number>;
  /** The base model's top passages (EVAL_DEPTH). */
  ranked: string[];
}

export interface UserJudgedSnapshot {
  /** Queries kept for evaluation. */
  queries: number;
  /** Marks read from the store's log. */
  marks: number;
  /** Judged queries left out because none of their relevant passages is in the index any more. */
  stale: number;
  /** Lines of the log that could not be read (skipped). */
  unreadableLines: number;
}

/** What a run compares on the user's judgements: the teacher check's and the evaluation's extra rows. */
export interface UserJudgedCheck {
  queries: number;
  student: MetricSummary;
  teacher: MetricSummary;
}

export interface UserJudgedComparison {
  queries: number;
  base: MetricSummary;
  tuned: MetricSummary;
  ndcgDifference: BootstrapInterval;
}

/**
 * The store's judged queries whose judged passages are still indexed (a passage's id changes when
 * its text does), with marks of vanished passages dropped. Returned without rankings.
 */
export async function currentJudgedQueries(store: Store, storeDir: string): Promise<{ queries: Omit<UserJudgedQuery, 'ranked'>[]; snapshot: UserJudgedSnapshot }> {
  const judged = judgedQueries(storeDir);
  const ids = judged.queries.flatMap((query) => [...query.judgements.keys()]);
  const present = await store.fetchPassages(ids);
  const queries: Omit<UserJudgedQuery, 'ranked'>[] = [];
  let stale = 0;
  for (const query of judged.queries) {
    const judgements = Object.fromEntries([...query.judgements].filter(([id]) => present.has(id)));
    if (!Object.values(judgements).some((gain) => gain > 0)) {
      stale += 1;
      continue;
    }
    queries.push({ qid: `u${queries.length}`, query: query.query, judgements });
  }
  return { queries, snapshot: { queries: queries.length, marks: judged.marks, stale, unreadableLines: judged.unreadableLines } };
}

/** Per-query metrics of rankings against the user's judgements. */
export function scoreAgainstJudgements(queries: readonly UserJudgedQuery[], rankings: readonly (readonly string[])[]): PerQueryMetrics[] {
  return queries.map((query, index) => scoreQuery(query.qid, rankings[index] ?? [], new Map(Object.entries(query.judgements))));
}

/** The run's user-judged queries; none when the file is absent (a run from before the stage existed). */
export function readUserJudged(file: string): UserJudgedQuery[] {
  return fs.existsSync(file) ? readJsonLines<UserJudgedQuery>(file) : [];
}

/** "1 query" or "N queries", for the lines that report on the user's judged queries. */
export function judgedCount(queries: number): string {
  return `${queries} ${queries === 1 ? 'query' : 'queries'}`;
}
