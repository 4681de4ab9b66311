import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpecializeError } from '../errors';
import type { Judgements } from '../eval/metrics';

/**
 * The user's relevance judgements: which search results were (not) what they were looking for, as
 * marked in the search view or with `specialize judge`. Tuning evaluates on them next to the held-out
 * synthetic queries. They live beside the index as an append-only JSON Lines file, one mark per line,
 * so a mark costs one small append and a later mark of the same result simply wins.
 */
export const JUDGEMENTS_FILE = 'judgements.jsonl';

export interface Judgement {
  query: string;
  /** The passage's id in the index (search results carry it). */
  passageId: string;
  relevant: boolean;
  /** Where the passage was when it was marked, so a person reading the file knows what it was. */
  path?: string;
  /** ISO 8601 time of the mark. */
  at: string;
}

/** A line of the log: a mark, or (`relevant: null`) the withdrawal of one. */
export type LoggedMark = Omit<Judgement, 'relevant'> & { relevant: boolean | null };

/** One query with what the user said about its results. */
export interface JudgedQuery {
  query: string;
  /** Passage id → gain (1 relevant, 0 not relevant). */
  judgements: Judgements;
}

export interface JudgementSummary {
  /** Queries with at least one result marked relevant (the only ones a ranking can be scored on). */
  queries: JudgedQuery[];
  /** Marks recorded, after later marks replaced earlier ones of the same result. */
  marks: number;
  /** Lines that could not be read (a write cut short, an edit by hand); they are skipped, not fatal. */
  unreadableLines: number;
}

export function judgementsFile(storeDir: string): string {
  return path.join(storeDir, JUDGEMENTS_FILE);
}

/** Queries that differ only in spacing or surrounding blanks are the same query. */
export function normaliseQuery(query: string): string {
  return query.trim().replace(/\s+/g, ' ');
}

/**
 * Appends one mark; a mark of the same query and passage made later replaces it when read. A mark
 * with `relevant: null` withdraws the earlier one (the log stays append-only).
 */
export async function recordJudgement(storeDir: string, mark: Omit<Judgement, 'at' | 'relevant'> & { relevant: boolean | null; at?: string }): Promise<LoggedMark> {
  const query = normaliseQuery(mark.query);
  if (!query) throw new SpecializeError('A judgement needs the query it was made for; the query is empty.', 'Search for something, then mark its results.', 'invalid-input');
  if (!mark.passageId.trim()) throw new SpecializeError('A judgement needs the id of the passage it marks; the id is empty.', 'Mark a search result (results carry their passage id).', 'invalid-input');
  if (!fs.existsSync(path.join(storeDir, 'store.json'))) {
    throw new SpecializeError(`There is no index at ${storeDir} to record judgements for.`, 'Index the workspace first, then search and mark results.', 'not-found');
  }
  const judgement: LoggedMark = { query, passageId: mark.passageId, relevant: mark.relevant, ...(mark.path ? { path: mark.path } : {}), at: mark.at ?? new Date().toISOString() };
  // One short line per append: readers see whole earlier lines, and a torn last line is skipped.
  await fs.promises.appendFile(judgementsFile(storeDir), `${JSON.stringify(judgement)}\n`, 'utf8');
  return judgement;
}

/** Every mark in the log, the latest per (query, passage), in the order first marked. */
export function readJudgements(storeDir: string): { marks: Judgement[]; unreadableLines: number } {
  let text: string;
  try {
    text = fs.readFileSync(judgementsFile(storeDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { marks: [], unreadableLines: 0 };
    throw error;
  }
  const latest = new Map<string, Judgement>();
  let unreadableLines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const mark = parseMark(line);
    if (!mark) {
      unreadableLines += 1;
      continue;
    }
    const key = `${mark.query}\u0000${mark.passageId}`;
    // Delete first so a re-marked result moves to its latest position but keeps one entry.
    latest.delete(key);
    if (mark.relevant !== null) latest.set(key, { ...mark, relevant: mark.relevant });
  }
  return { marks: [...latest.values()], unreadableLines };
}

/** The judged queries of a store's log: grouped by query, keeping queries with a relevant result. */
export function judgedQueries(storeDir: string): JudgementSummary {
  const { marks, unreadableLines } = readJudgements(storeDir);
  return { queries: groupByQuery(marks), marks: marks.length, unreadableLines };
}

/** Marks grouped by query (passage id → gain), keeping only queries with a relevant result. */
export function groupByQuery(marks: readonly Judgement[]): JudgedQuery[] {
  const byQuery = new Map<string, Map<string, number>>();
  for (const mark of marks) {
    const judgements = byQuery.get(mark.query) ?? new Map<string, number>();
    judgements.set(mark.passageId, mark.relevant ? 1 : 0);
    byQuery.set(mark.query, judgements);
  }
  return [...byQuery].filter(([, judgements]) => [...judgements.values()].some((gain) => gain > 0)).map(([query, judgements]) => ({ query, judgements }));
}

function parseMark(line: string): LoggedMark | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const row = value as Record<string, unknown>;
  if (typeof row.query !== 'string' || typeof row.passageId !== 'string' || (typeof row.relevant !== 'boolean' && row.relevant !== null)) return undefined;
  const query = normaliseQuery(row.query);
  if (!query || !row.passageId) return undefined;
  return { query, passageId: row.passageId, relevant: row.relevant, ...(typeof row.path === 'string' ? { path: row.path } : {}), at: typeof row.at === 'string' ? row.at : '' };
}
