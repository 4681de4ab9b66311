import { describe, expect, it } from 'vitest';
import { excludesZero, pairedBootstrap } from '../../src/core/eval/bootstrap';
import { SpecializeError } from '../../src/core/errors';
import { mulberry32 } from '../../src/core/util/random';

/** Standard normal draws (Box–Muller) from a seeded stream, so every case is the same on every run. */
function normals(count: number, seed: number): number[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

describe('pairedBootstrap', () => {
  it('gives the same interval for the same seed, and another for another seed', () => {
    const base = normals(50, 1).map((z) => 0.5 + 0.1 * z);
    const tuned = normals(50, 2).map((z) => 0.52 + 0.1 * z);
    const first = pairedBootstrap(base, tuned, { seed: 7, resamples: 2000 });
    expect(pairedBootstrap(base, tuned, { seed: 7, resamples: 2000 })).toEqual(first);
    const other = pairedBootstrap(base, tuned, { seed: 8, resamples: 2000 });
    expect(other.meanDifference).toBe(first.meanDifference);
    expect([other.low, other.high]).not.toEqual([first.low, first.high]);
    expect(first).toMatchObject({ resamples: 2000, queries: 50, confidence: 0.95 });
  });

  it('finds a small consistent gain significant although queries vary far more than the models do', () => {
    // Query difficulty spreads scores over [0, 1]; the tuned model adds 0.02 ± 0.01 to every query.
    // Unpaired, a 0.02 gain would drown in that spread; paired, it is plain.
    const random = mulberry32(3);
    const base = Array.from({ length: 100 }, () => random() * 0.9);
    const noise = normals(100, 4);
    const tuned = base.map((score, i) => score + 0.02 + 0.01 * (noise[i] as number));
    const interval = pairedBootstrap(base, tuned);
    expect(interval.low).toBeGreaterThan(0);
    expect(interval.low).toBeLessThan(interval.meanDifference);
    expect(interval.high).toBeGreaterThan(interval.meanDifference);
    expect(excludesZero(interval)).toBe(true);
  });

  it('gives exactly [0, 0] for identical scores', () => {
    const scores = normals(30, 5).map((z) => Math.abs(z));
    expect(pairedBootstrap(scores, [...scores])).toMatchObject({ meanDifference: 0, low: 0, high: 0, queries: 30 });
    expect(excludesZero({ low: 0, high: 0 })).toBe(false);
  });

  it('keeps 0 inside the interval when the differences have mean zero', () => {
    // Antithetic pairs (+e, −e) make the observed mean exactly 0, so the bootstrap distribution is
    // centred on 0 and any 95% interval must straddle it, whatever the noise.
    const noise = normals(100, 6).map((z) => 0.2 * z);
    const differences = [...noise, ...noise.map((e) => -e)];
    const base = normals(200, 7).map((z) => 0.5 + 0.1 * z);
    const tuned = base.map((score, i) => score + (differences[i] as number));
    for (const seed of [1, 2, 3]) {
      const interval = pairedBootstrap(base, tuned, { seed });
      expect(Math.abs(interval.meanDifference)).toBeLessThan(1e-12);
      expect(interval.low).toBeLessThan(0);
      expect(interval.high).toBeGreaterThan(0);
      expect(excludesZero(interval)).toBe(false);
    }
  });

  it('matches the normal-theory interval mean ± 1.96·sd/√n for n = 400', () => {
    const n = 400;
    const differences = normals(n, 8).map((z) => 0.03 + 0.15 * z);
    const base = normals(n, 9).map((z) => 0.4 + 0.1 * z);
    const tuned = base.map((score, i) => score + (differences[i] as number));
    const observed = tuned.map((score, i) => score - (base[i] as number));
    const m = mean(observed);
    const standardError = Math.sqrt(observed.reduce((sum, d) => sum + (d - m) ** 2, 0) / (n - 1)) / Math.sqrt(n);

    const interval = pairedBootstrap(base, tuned);
    // Tolerance 0.1 standard errors (5% of the 1.96-SE half-width). With 10,000 resamples a 2.5%
    // quantile's Monte Carlo sd is sqrt(0.025·0.975/10000) / φ(1.96) ≈ 0.027 SE; the bootstrap's
    // plug-in sd (÷n, not ÷(n−1)) shrinks the half-width by 0.1%; normal differences give no skew.
    // So 0.1 SE is ~4 Monte Carlo sds, while mistakes (unpaired resampling, sd instead of SE, a
    // wrong tail) miss by whole standard errors.
    const tolerance = 0.1 * standardError;
    expect(interval.meanDifference).toBeCloseTo(m, 12);
    expect(Math.abs(interval.low - (m - 1.96 * standardError))).toBeLessThan(tolerance);
    expect(Math.abs(interval.high - (m + 1.96 * standardError))).toBeLessThan(tolerance);
    expect(excludesZero(interval)).toBe(true);

    // A 50% interval is about ±0.674 SE: the confidence option reaches the percentiles.
    const narrow = pairedBootstrap(base, tuned, { confidence: 0.5 });
    expect(Math.abs(narrow.low - (m - 0.674 * standardError))).toBeLessThan(tolerance);
    expect(Math.abs(narrow.high - (m + 0.674 * standardError))).toBeLessThan(tolerance);
  });

  it('rejects scores that cannot be paired, and bad options, with one clear message', () => {
    const problem = (run: () => unknown, message: RegExp) => {
      expect(run).toThrow(SpecializeError);
      expect(run).toThrow(message);
    };
    problem(() => pairedBootstrap([0.1, 0.2], [0.3]), /2 base and 1 tuned scores/);
    problem(() => pairedBootstrap([], []), /no queries/);
    problem(() => pairedBootstrap([0.1, Number.NaN], [0.2, 0.3]), /base score of query 1 is not a finite number/);
    problem(() => pairedBootstrap([0.1, 0.2], [0.2, Number.POSITIVE_INFINITY]), /tuned score of query 1/);
    problem(() => pairedBootstrap([0.1], [0.2], { resamples: 0 }), /resamples must be a whole number/);
    problem(() => pairedBootstrap([0.1], [0.2], { confidence: 1 }), /confidence must lie strictly between 0 and 1/);
    problem(() => pairedBootstrap([0.1], [0.2], { seed: 1.5 }), /seed must be a whole number/);
  });
});
