import { FEW_SHOT_POOL } from './fewShotPool';
import type { QueryType } from './queryTypes';

export type ParseRejection = 'empty' | 'no-words' | 'too-long' | 'copies-passage' | 'copies-example' | 'refusal' | 'echoes-prompt';

export type ParsedQuery = { ok: true; query: string } | { ok: false; reason: ParseRejection };

/** Consecutive words shared with the passage beyond which a query is a copy rather than a query. */
const MAX_COPIED_RUN = 8;
/** Characters above which any query is rambling, whatever its word count. */
const MAX_QUERY_CHARS = 300;

/**
 * Turns a model's raw answer into one query, tolerating what chat models wrap around it: reasoning
 * blocks, preambles ("Sure! Here is a question:"), labels ("Question:"), numbering, bullets,
 * Markdown emphasis and quotes. Takes the first meaningful line; rejects empty, over-long,
 * refusing, prompt-echoing and passage-copying answers with a reason.
 */
export function parseQuery(raw: string, type: QueryType, passage: string): ParsedQuery {
  const line = firstMeaningfulLine(stripReasoning(raw));
  if (line === undefined) return { ok: false, reason: 'empty' };
  let query = cleanLine(line);
  if (query === '') return { ok: false, reason: 'empty' };
  if (REFUSAL.test(query)) return { ok: false, reason: 'refusal' };
  if (/^passage\b/i.test(query)) return { ok: false, reason: 'echoes-prompt' };
  if (!/\p{L}{3}/u.test(query)) return { ok: false, reason: 'no-words' };
  const fitted = tooLong(query, type) ? (type.id === 'keywords' ? firstPhrases(query) : firstSentence(query)) : query;
  if (fitted === undefined || tooLong(fitted, type)) return { ok: false, reason: 'too-long' };
  query = fitted;
  if (!type.mayCopy && copiesPassage(query, passage)) return { ok: false, reason: 'copies-passage' };
  // A small model sometimes repeats an answer from the prompt's examples, whatever the passage.
  if (EXAMPLE_ANSWERS.has(comparable(query))) return { ok: false, reason: 'copies-example' };
  return { ok: true, query };
}

function tooLong(query: string, type: QueryType): boolean {
  return query.length > MAX_QUERY_CHARS || words(query).length > type.maxWords;
}

/** Keywords beyond the limit: the first five phrases are the answer, the rest is run-on. */
function firstPhrases(text: string): string | undefined {
  const phrases = text.split(/\s*[,;]\s*/).filter(Boolean);
  return phrases.length > 1 ? phrases.slice(0, 5).join(', ') : undefined;
}

const comparable = (text: string) => words(text).join(' ');
const EXAMPLE_ANSWERS = new Set(FEW_SHOT_POOL.flatMap((example) => Object.values(example.queries).flatMap((query) => (query === undefined ? [] : [comparable(query)]))));

/**
 * A model that runs on past its answer on the same line ("Where do jobs go? They are parked…")
 * still gave a good first sentence; a line with no sentence end is rambling.
 */
function firstSentence(text: string): string | undefined {
  const end = /[.?!](\s|$)/.exec(text);
  return end && end.index + 1 < text.length ? text.slice(0, end.index + 1).trim() : undefined;
}

/** Drops `<think>…</think>` blocks; an unclosed one means the answer never came. */
function stripReasoning(raw: string): string {
  const closed = raw.replace(/<(think|thinking|reasoning)>[\s\S]*?<\/\1>/gi, '');
  const unclosed = closed.search(/<(think|thinking|reasoning)>/i);
  return unclosed === -1 ? closed : closed.slice(0, unclosed);
}

/** Lines that only introduce the answer, or only format it, carry no query. */
const PREAMBLE = /^(sure|okay|ok|certainly|of course|here('s| is| are)|the (query|question|title|answer) is)\b.*[:.!]$|^[^:]{0,60}:$/i;
const FENCE = /^(```|~~~)/;

function firstMeaningfulLine(text: string): string | undefined {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || FENCE.test(line) || PREAMBLE.test(line)) continue;
    if (cleanLine(line) === '') continue;
    return line;
  }
  return undefined;
}

const LABEL =
  /^(?:(?:search |web |msmarco |ms marco |user )?query|question|claim|statement|title|keywords?|key phrases?|answer|output|error(?: message)?|identifier|lookup|how-?to)\s*\d*\s*[:：-]\s*/i;

function cleanLine(line: string): string {
  let text = line.trim();
  // Repeat: a model may write `1. **Question:** "…"` — numbering, emphasis, label and quotes nest.
  for (let pass = 0; pass < 4; pass += 1) {
    const before = text;
    text = text
      .replace(/^(?:[-*•>]|\d{1,2}[.)]|\(\d{1,2}\))\s+/, '')
      .replace(/^(\*\*|__)(.*?)\1/, '$2')
      .replace(LABEL, '')
      .replace(/^(\*\*|__)\s*/, '')
      .replace(/\s*(\*\*|__)$/, '')
      .trim();
    text = stripQuotes(text);
    if (text === before) break;
  }
  return text.replace(/\s+/g, ' ').trim();
}

const QUOTE_PAIRS: readonly [string, string][] = [
  ['"', '"'],
  ["'", "'"],
  ['`', '`'],
  ['\u201c', '\u201d'],
  ['\u2018', '\u2019'],
  ['\u00ab', '\u00bb'],
];

function stripQuotes(text: string): string {
  for (const [open, close] of QUOTE_PAIRS) {
    if (text.length >= 2 && text.startsWith(open) && text.endsWith(close)) return text.slice(open.length, -close.length).trim();
  }
  return text;
}

const REFUSAL = /^(i('m| am) (sorry|unable|not able)|i can(no|')t|as an ai|sorry\b|unfortunately,? i)/i;

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? [];
}

/**
 * Whether the query repeats the passage: a run of MAX_COPIED_RUN words in a row, or, for a query
 * shorter than that, the whole query as a sentence-long run (at least 6 words) of the passage.
 */
export function copiesPassage(query: string, passage: string): boolean {
  const queryWords = words(query);
  const run = Math.min(MAX_COPIED_RUN, queryWords.length);
  if (run < 6) return false;
  const passageWords = words(passage);
  const grams = new Set<string>();
  for (let i = 0; i + run <= passageWords.length; i += 1) grams.add(passageWords.slice(i, i + run).join(' '));
  for (let i = 0; i + run <= queryWords.length; i += 1) {
    if (grams.has(queryWords.slice(i, i + run).join(' '))) return true;
  }
  return false;
}
