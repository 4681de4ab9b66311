import * as path from 'node:path';
import type { StoredPassage } from '../store/schema';
import { mulberry32 } from '../util/random';
import { removeNearDuplicates } from './nearDuplicates';

/**
 * Which passages get synthetic queries (method, pipeline step 1): near-duplicates removed, at most
 * 100k passages sampled across the corpus, and 100 of them held out, whose queries become the
 * synthetic evaluation set and which never appear as a training candidate.
 */

export interface SampleOptions {
  /** Upper bound on passages sampled (training and held out together). The method: 100k. */
  maxPassages?: number;
  /** Passages held out for the synthetic evaluation set. The method's scripts: 100. */
  holdOut?: number;
  seed?: number;
}

export const DEFAULT_MAX_PASSAGES = 100_000;
export const DEFAULT_HOLD_OUT = 100;
export const DEFAULT_SEED = 42;
/**
 * Below `holdOut × 5` sampled passages, at most this share is held out: holding out 100 of 150
 * passages would leave too little to train on, and an 80/20 split keeps most of a small corpus for
 * training while still giving the evaluation a few dozen queries per type.
 */
export const SMALL_CORPUS_HOLD_OUT_SHARE = 0.2;

export interface SampleTally {
  /** Passages given. */
  total: number;
  tooShort: number;
  nearDuplicate: number;
  /** Passages sampled: training and held out together. */
  sampled: number;
  heldOut: number;
  /** Passages sampled per stratum (see `stratumOf`), training and held out together. */
  strata: Record<string, number>;
}

export interface PassageSample<T> {
  /** Sorted by id. */
  train: T[];
  /** Sorted by id. */
  heldOut: T[];
  tally: SampleTally;
}

type SamplablePassage = Pick<StoredPassage, 'id' | 'root' | 'path' | 'text'>;

/**
 * Near-duplicate removal, then a stratified sample, then a stratified hold-out. Strata are (root,
 * file type), so a workspace of many small Markdown files and a few huge generated JSON files still
 * gets queries about its code, and a second folder is not crowded out by the first.
 *
 * The hold-out is chosen per passage, as in the method, not per file. Passages of one file can
 * therefore land on both sides, and they share names and vocabulary, so the synthetic evaluation
 * is somewhat optimistic; it tracks progress and catches regressions, while the promotion decision
 * rests on the user's own held-out queries.
 *
 * The output depends only on the set of passages and the options: input order does not matter.
 */
export function samplePassages<T extends SamplablePassage>(passages: readonly T[], options: SampleOptions = {}): PassageSample<T> {
  const maxPassages = options.maxPassages ?? DEFAULT_MAX_PASSAGES;
  const holdOut = options.holdOut ?? DEFAULT_HOLD_OUT;
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(maxPassages) || maxPassages < 0) throw new RangeError(`maxPassages must be a whole number ≥ 0, got ${maxPassages}`);
  if (!Number.isInteger(holdOut) || holdOut < 0) throw new RangeError(`holdOut must be a whole number ≥ 0, got ${holdOut}`);

  const sorted = [...passages].sort((a, b) => compareCodeUnits(a.id, b.id));
  const { kept, counts } = removeNearDuplicates(sorted);

  // Each stratum is shuffled by its own seed (the user's seed mixed with the stratum key): the
  // sample is a prefix of that order and the hold-out a prefix of the sample, so adding a file type
  // elsewhere changes how many passages a stratum gets, but not which ones come first.
  const shuffled = new Map<string, T[]>();
  for (const [key, members] of groupByStratum(kept)) shuffled.set(key, seededShuffle(members, mixSeed(seed, key)));

  const keys = [...shuffled.keys()].sort(compareCodeUnits);
  const sizes = keys.map((key) => (shuffled.get(key) as T[]).length);
  const sampleCounts = allocateProportionally(sizes, Math.min(maxPassages, sum(sizes)), { atLeastOne: true });
  const sampledTotal = sum(sampleCounts);

  const holdOutBudget = sampledTotal < holdOut * 5 ? Math.min(holdOut, Math.floor(sampledTotal * SMALL_CORPUS_HOLD_OUT_SHARE)) : holdOut;
  // Every stratum keeps at least one training passage; the rest of the hold-out follows the sample's
  // proportions (no minimum per stratum), so the evaluation set mirrors the mix it evaluates.
  const holdOutCapacity = sampleCounts.map((count) => Math.max(0, count - 1));
  const holdOutCounts = allocateProportionally(holdOutCapacity, Math.min(holdOutBudget, sum(holdOutCapacity)), { atLeastOne: false });

  const train: T[] = [];
  const heldOut: T[] = [];
  const strata: Record<string, number> = {};
  keys.forEach((key, index) => {
    const sample = (shuffled.get(key) as T[]).slice(0, sampleCounts[index]);
    const held = holdOutCounts[index] as number;
    heldOut.push(...sample.slice(0, held));
    train.push(...sample.slice(held));
    strata[key] = sample.length;
  });
  train.sort((a, b) => compareCodeUnits(a.id, b.id));
  heldOut.sort((a, b) => compareCodeUnits(a.id, b.id));
  return {
    train,
    heldOut,
    tally: { total: passages.length, tooShort: counts['too-short'], nearDuplicate: counts['near-duplicate'], sampled: sampledTotal, heldOut: heldOut.length, strata },
  };
}

/** The stratum of a passage: its root and file type, e.g. `/ws/api · .ts` or `/ws/api · Makefile`. */
export function stratumOf(passage: Pick<StoredPassage, 'root' | 'path'>): string {
  return `${passage.root} · ${fileTypeOf(passage.path)}`;
}

/** The lowercased extension with its dot (`.ts`), or the file name itself when it has none (`Makefile`). */
export function fileTypeOf(filePath: string): string {
  const base = path.posix.basename(filePath.replace(/\\/g, '/'));
  const extension = path.posix.extname(base);
  return extension === '' ? base : extension.toLowerCase();
}

/**
 * Splits `budget` among groups in proportion to their sizes by the largest-remainder (Hamilton)
 * method: each group gets the floor of its exact share, and the units left over go to the largest
 * fractional parts (ties: the earlier group). With `atLeastOne`, when the budget covers every
 * non-empty group, each first gets one and the rest is shared in proportion to what remains of them,
 * so a small file type is never sampled away. No group gets more than its size.
 */
export function allocateProportionally(sizes: readonly number[], budget: number, options: { atLeastOne: boolean }): number[] {
  const total = sum(sizes);
  if (budget >= total) return [...sizes];
  if (budget <= 0) return sizes.map(() => 0);
  const nonEmpty = sizes.filter((size) => size > 0).length;
  if (options.atLeastOne && budget >= nonEmpty) {
    const floors = sizes.map((size) => (size > 0 ? 1 : 0));
    const rest = largestRemainder(
      sizes.map((size) => Math.max(0, size - 1)),
      budget - nonEmpty,
    );
    return floors.map((floor, index) => floor + (rest[index] as number));
  }
  return largestRemainder(sizes, budget);
}

/** Hamilton's method in integers (exact: the products stay far below 2^53). Requires budget ≤ sum(sizes). */
function largestRemainder(sizes: readonly number[], budget: number): number[] {
  const total = sum(sizes);
  if (total === 0 || budget === 0) return sizes.map(() => 0);
  const counts = sizes.map((size) => Math.floor((budget * size) / total));
  const remainders = sizes.map((size, index) => ({ index, remainder: (budget * size) % total }));
  remainders.sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  let left = budget - sum(counts);
  // Exact shares never exceed a group's size, and a group whose share is whole has remainder 0,
  // which sorts behind every group still owed a fraction: no group is pushed past its size.
  for (const { index } of remainders) {
    if (left === 0) break;
    counts[index] = (counts[index] as number) + 1;
    left -= 1;
  }
  return counts;
}

function groupByStratum<T extends SamplablePassage>(passages: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const passage of passages) {
    const key = stratumOf(passage);
    const group = groups.get(key);
    if (group) group.push(passage);
    else groups.set(key, [passage]);
  }
  return groups;
}

/**
 * Fisher–Yates with a seeded generator: a new array, the input untouched. Seeded because the sample
 * must come out the same on every run, or a rerun would generate queries for different passages
 * (losing the query cache) and, worse, move passages between the held-out evaluation set and
 * training, so a passage trained on could be evaluated on.
 */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const random = mulberry32(seed);
  const result = [...items];
  for (let i = result.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}

/** FNV-1a over the stratum key, mixed with the user's seed: one independent stream per stratum. */
function mixSeed(seed: number, key: string): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Code-unit order: the same on every machine, unlike localeCompare. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
