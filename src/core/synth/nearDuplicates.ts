/**
 * Near-duplicate removal before query generation (method, pipeline step 1). A corpus of code and
 * docs repeats itself: license headers, generated files, vendored copies, a changelog entry quoted
 * in a README. Duplicates waste LLM calls and, worse, make false negatives: a copy of the source
 * passage among the candidates is relevant but would be trained as a negative.
 */

/** Passages whose normalised text is shorter than this carry too little to write a query about. */
export const MIN_NORMALIZED_CHARS = 10;
/** Each passage is compared with this many neighbours on either side, in each sort order. */
export const NEIGHBOURS = 9;

export type NearDuplicateReason = 'too-short' | 'near-duplicate';

export interface DroppedPassage<T> {
  passage: T;
  reason: NearDuplicateReason;
  /** For a near-duplicate: the id of a passage that contains it (itself possibly dropped in turn). */
  duplicateOf?: string;
}

export interface NearDuplicateResult<T> {
  /** Survivors, in input order. */
  kept: T[];
  dropped: DroppedPassage<T>[];
  counts: Record<NearDuplicateReason, number>;
}

const COMBINING_MARKS = /\p{M}/gu;
/** Digits, punctuation and symbols in every script (not only ASCII `0-9` and `string.punctuation`). */
const DIGITS_PUNCTUATION_SYMBOLS = /[\p{N}\p{P}\p{S}]/gu;
const WHITESPACE_RUNS = /\s+/g;

/**
 * The comparison key: NFKC (ligatures and full-width forms become plain letters), accents stripped
 * (NFD, then combining marks dropped), lowercased, digits, punctuation and symbols dropped,
 * whitespace collapsed. Two passages that differ only in numbering, formatting or accents compare equal.
 */
export function normalizeForDedup(text: string): string {
  return text
    .normalize('NFKC')
    .normalize('NFD')
    .replace(COMBINING_MARKS, '')
    .toLowerCase()
    .replace(DIGITS_PUNCTUATION_SYMBOLS, '')
    .replace(WHITESPACE_RUNS, ' ')
    .trim();
}

interface Candidate<T> {
  passage: T;
  id: string;
  key: string;
}

/**
 * Drops passages whose normalised text is under 10 characters, then every passage whose normalised
 * text is contained in another's. Containment is checked between neighbours only (9 either side),
 * once sorted by the text and once by the reversed text: sorting puts a text right before the texts
 * it is a prefix of, and the reversed sort does the same for suffixes, so the two passes catch a
 * passage cut from the start or the end of another in O(n log n) instead of comparing all pairs.
 *
 * The result depends only on the set of passages, not their order: of a pair, the one containing
 * the other is kept, and of identical texts the smallest id (in code-unit order, not locale order).
 */
export function removeNearDuplicates<T extends { id: string; text: string }>(passages: readonly T[]): NearDuplicateResult<T> {
  const dropped: DroppedPassage<T>[] = [];
  const longEnough: Candidate<T>[] = [];
  for (const passage of passages) {
    const key = normalizeForDedup(passage.text);
    if (hasFewerCodePoints(key, MIN_NORMALIZED_CHARS)) dropped.push({ passage, reason: 'too-short' });
    else longEnough.push({ passage, id: passage.id, key });
  }

  // Identical texts first, by hash map: a block of many copies (a license header in every file)
  // would otherwise fill the 9-neighbour window and hide a longer text that contains them all.
  const distinct = keepOnePerKey(longEnough, dropped);
  const afterForward = dropContainedNeighbours(sortByKey(distinct, compareCodeUnits), dropped);
  const survivors = dropContainedNeighbours(sortByKey(afterForward, compareReversed), dropped);

  const survivorSet = new Set(survivors.map((c) => c.passage));
  const kept = passages.filter((p) => survivorSet.has(p));
  const counts: Record<NearDuplicateReason, number> = { 'too-short': 0, 'near-duplicate': 0 };
  for (const entry of dropped) counts[entry.reason] += 1;
  return { kept, dropped, counts };
}

function keepOnePerKey<T>(candidates: readonly Candidate<T>[], dropped: DroppedPassage<T>[]): Candidate<T>[] {
  const smallestId = new Map<string, Candidate<T>>();
  for (const candidate of candidates) {
    const held = smallestId.get(candidate.key);
    if (!held || candidate.id < held.id) smallestId.set(candidate.key, candidate);
  }
  for (const candidate of candidates) {
    const winner = smallestId.get(candidate.key) as Candidate<T>;
    if (winner !== candidate) dropped.push({ passage: candidate.passage, reason: 'near-duplicate', duplicateOf: winner.id });
  }
  return [...smallestId.values()];
}

/**
 * Compares every pair at most NEIGHBOURS apart in `sorted` and drops the contained one. Whether a
 * passage is dropped depends only on the pairs, never on which was looked at first, so the outcome
 * is the same for any order of equal sort keys. Keys are distinct here, so one of a containing
 * pair is strictly shorter.
 */
function dropContainedNeighbours<T>(sorted: readonly Candidate<T>[], dropped: DroppedPassage<T>[]): Candidate<T>[] {
  const containedIn: (string | undefined)[] = new Array<string | undefined>(sorted.length);
  for (let i = 0; i < sorted.length; i += 1) {
    const a = sorted[i] as Candidate<T>;
    const last = Math.min(sorted.length - 1, i + NEIGHBOURS);
    for (let j = i + 1; j <= last; j += 1) {
      const b = sorted[j] as Candidate<T>;
      if (a.key.length < b.key.length) {
        if (containedIn[i] === undefined && b.key.includes(a.key)) containedIn[i] = b.id;
      } else if (containedIn[j] === undefined && a.key.includes(b.key)) {
        containedIn[j] = a.id;
      }
    }
  }
  const survivors: Candidate<T>[] = [];
  sorted.forEach((candidate, index) => {
    const container = containedIn[index];
    if (container === undefined) survivors.push(candidate);
    else dropped.push({ passage: candidate.passage, reason: 'near-duplicate', duplicateOf: container });
  });
  return survivors;
}

/**
 * Sorted by `compareKeys`, ties (identical keys) by id. Code-unit order: fast, and the same on
 * every machine (localeCompare depends on the ICU locale).
 */
function sortByKey<T>(candidates: readonly Candidate<T>[], compareKeys: (a: string, b: string) => number): Candidate<T>[] {
  return [...candidates].sort((x, y) => compareKeys(x.key, y.key) || compareCodeUnits(x.id, y.id));
}

/**
 * Orders strings as their reversals would sort, without building them (building 100k reversed
 * texts costs more than the whole sort). Reversing UTF-16 units rather than code points is fine
 * here: it is a consistent order in which texts sharing a suffix sit together.
 */
function compareReversed(a: string, b: string): number {
  for (let i = a.length - 1, j = b.length - 1; i >= 0 && j >= 0; i -= 1, j -= 1) {
    const difference = a.charCodeAt(i) - b.charCodeAt(j);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Counts code points (an astral character is one character) only when the answer is in doubt. */
function hasFewerCodePoints(text: string, limit: number): boolean {
  // A code point takes one or two UTF-16 units, so the exact count matters only between the two.
  if (text.length < limit) return true;
  if (text.length >= limit * 2) return false;
  return Array.from(text).length < limit;
}
