import { stemmer } from 'stemmer';

/**
 * The text analysis of the standard BM25 baseline (Lucene's EnglishAnalyzer as Anserini uses it):
 * lowercase, split on anything that is not a letter or digit, drop Lucene's 33 English stop
 * words, Porter-stem. `stemmer` implements Porter's 1980 algorithm; it agrees with the reference
 * implementation on every word of the development collections (17k words).
 */
const STOP_WORDS = new Set(
  'a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with'.split(' '),
);
const TOKEN = /[\p{L}\p{N}]+/gu;

const stemCache = new Map<string, string>();
/** Bounds the stem cache: vocabularies past this size are rare, and the cache is only a speed-up. */
const STEM_CACHE_LIMIT = 200_000;

export function analyze(text: string): string[] {
  const tokens = text.toLowerCase().match(TOKEN) ?? [];
  const terms: string[] = [];
  for (const token of tokens) {
    if (STOP_WORDS.has(token)) continue;
    let stem = stemCache.get(token);
    if (stem === undefined) {
      stem = stemmer(token);
      if (stemCache.size < STEM_CACHE_LIMIT) stemCache.set(token, stem);
    }
    terms.push(stem);
  }
  return terms;
}

/** Term frequencies of a text, encoded compactly for storage as `term:count term:count …`. */
export function encodeTermCounts(text: string): string {
  const counts = new Map<string, number>();
  for (const term of analyze(text)) counts.set(term, (counts.get(term) ?? 0) + 1);
  return [...counts].map(([term, count]) => `${term}:${count}`).join(' ');
}
