import { SpecializeError } from '../errors';
import { mulberry32 } from '../util/random';

/**
 * Paired bootstrap of a metric's mean difference between two models scored on the same queries:
 * is the tuned model better, and by how much? Pairing matters: queries differ far more from each
 * other than the models do on one query, so resampling the per-query differences (not each model's
 * scores independently) is what lets a small, consistent gain show.
 */

export interface BootstrapOptions {
  /** Resampled means; 10,000 puts the Monte Carlo error of a 95% bound near 1.5% of its half-width. */
  resamples?: number;
  /** Two-sided coverage of the interval, in (0, 1). */
  confidence?: number;
  /** Same seed, same numbers, same interval: a report must not change when it is re-run. */
  seed?: number;
}

export interface BootstrapInterval {
  /** Observed mean of tuned − base over the queries. */
  meanDifference: number;
  /** Percentile bounds of the resampled mean differences. */
  low: number;
  high: number;
  confidence: number;
  resamples: number;
  queries: number;
}

export const DEFAULT_RESAMPLES = 10_000;
export const DEFAULT_CONFIDENCE = 0.95;
export const DEFAULT_BOOTSTRAP_SEED = 42;

/**
 * Percentile interval of the mean of `tuned[i] − base[i]`, drawing queries with replacement.
 * `base` and `tuned` hold one score per query, the same queries in the same order.
 */
export function pairedBootstrap(base: readonly number[], tuned: readonly number[], options: BootstrapOptions = {}): BootstrapInterval {
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  const seed = options.seed ?? DEFAULT_BOOTSTRAP_SEED;
  checkInputs(base, tuned, resamples, confidence, seed);

  const n = base.length;
  const differences = Float64Array.from(tuned, (score, i) => score - (base[i] as number));
  const random = mulberry32(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r += 1) {
    let sum = 0;
    for (let draw = 0; draw < n; draw += 1) sum += differences[Math.floor(random() * n)] as number;
    means[r] = sum / n;
  }
  means.sort();
  const tail = (1 - confidence) / 2;
  return {
    meanDifference: mean(differences),
    low: quantile(means, tail),
    high: quantile(means, 1 - tail),
    confidence,
    resamples,
    queries: n,
  };
}

/** The interval lies wholly above or below zero: the difference is significant at its confidence. */
export function excludesZero(interval: Pick<BootstrapInterval, 'low' | 'high'>): boolean {
  return interval.low > 0 || interval.high < 0;
}

function checkInputs(base: readonly number[], tuned: readonly number[], resamples: number, confidence: number, seed: number): void {
  if (base.length !== tuned.length) {
    throw new SpecializeError(
      `The paired bootstrap needs one score per query from each model, but got ${base.length} base and ${tuned.length} tuned scores.`,
      'Score both models on the same queries, in the same order.',
    );
  }
  if (base.length === 0) throw new SpecializeError('The paired bootstrap got no queries.', 'Score both models on at least one query.');
  const bad = [...base, ...tuned].findIndex((score) => !Number.isFinite(score));
  if (bad >= 0) {
    const side = bad < base.length ? 'base' : 'tuned';
    throw new SpecializeError(`The ${side} score of query ${bad % base.length} is not a finite number.`, 'Pass one finite metric value per query.');
  }
  if (!Number.isInteger(resamples) || resamples < 1) throw new SpecializeError(`resamples must be a whole number ≥ 1 (got ${resamples}).`, `Use the default, ${DEFAULT_RESAMPLES}.`);
  if (!(confidence > 0 && confidence < 1)) throw new SpecializeError(`confidence must lie strictly between 0 and 1 (got ${confidence}).`, 'Use e.g. 0.95 for a 95% interval.');
  if (!Number.isInteger(seed)) throw new SpecializeError(`The bootstrap seed must be a whole number (got ${seed}).`, `Use the default, ${DEFAULT_BOOTSTRAP_SEED}.`);
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/** Linear interpolation between order statistics (R's type 7, NumPy's default) of sorted values. */
function quantile(sorted: Float64Array, p: number): number {
  const at = p * (sorted.length - 1);
  const below = Math.floor(at);
  const above = Math.min(below + 1, sorted.length - 1);
  const lower = sorted[below] as number;
  return lower + (at - below) * ((sorted[above] as number) - lower);
}
