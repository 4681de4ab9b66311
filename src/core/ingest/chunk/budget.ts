import type { ChunkOptions } from '../types';

/**
 * How big passages may and should be. `max` is a hard limit (the model truncates beyond it, so a
 * longer passage would silently lose its end); `target` is what merging aims for, below the limit
 * because token counts of joined texts only roughly add up; `min` marks a passage as too small to
 * stand alone when a neighbour has room for it.
 */
export interface Budget {
  readonly max: number;
  readonly target: number;
  readonly min: number;
  count(text: string): number;
  /**
   * Whether texts whose counts add up to `estimate` surely fit in one passage once joined with
   * `joins` line breaks, so the join need not be counted again.
   */
  fits(estimate: number, joins: number): boolean;
}

/** Merged passages aim for this share of the model's limit. */
const TARGET_SHARE = 0.7;
/**
 * Retrieval works best on passages of a few hundred tokens: a long-context model should not turn
 * every file into a handful of huge passages just because it could read them.
 */
const TARGET_CAP = 512;
/**
 * Counting is the costliest part of chunking with a real tokenizer, so joined texts are not
 * recounted when the sum of their parts leaves room for this many tokens per line break: a break
 * adds none with WordPiece, and one or two with byte-level BPE or SentencePiece (the break itself,
 * whitespace regrouped across the join). Passages that come close to the limit are recounted.
 */
const JOIN_ALLOWANCE = 4;
/** Passages below this share of the target are merged into a neighbour when one has room. */
const MIN_SHARE = 0.3;

export function makeBudget(options: ChunkOptions): Budget {
  const max = Math.max(1, Math.floor(Number.isFinite(options.maxTokens) ? options.maxTokens : 1));
  const target = Math.max(1, Math.min(TARGET_CAP, Math.floor(max * TARGET_SHARE)));
  const min = Math.max(1, Math.floor(target * MIN_SHARE));
  const count = (text: string) => (text.trim() === '' ? 0 : options.countTokens(text));
  const fits = (estimate: number, joins: number) => estimate + JOIN_ALLOWANCE * Math.max(0, joins) <= max;
  return { max, target, min, count, fits };
}
