import { describe, expect, it } from 'vitest';
import type { BootstrapInterval } from '../../src/core/eval/bootstrap';
import { decidePromotion } from '../../src/core/tune/promotion';

function interval(meanDifference: number, low: number, high: number, queries = 50): BootstrapInterval {
  return { meanDifference, low, high, confidence: 0.95, resamples: 10_000, queries };
}

describe('promotion rule', () => {
  it('promotes a held-out gain whose interval is above zero', () => {
    const decision = decidePromotion({ heldOut: interval(0.03, 0.01, 0.05) });
    expect(decision.promote).toBe(true);
    expect(decision.outcome).toBe('Promoted: the tuned model is now active (+0.0300 nDCG@10, 95% interval [+0.0100, +0.0500] on 50 held-out queries).');
  });

  it('keeps the base when the interval reaches zero or the gain is negative', () => {
    expect(decidePromotion({ heldOut: interval(0.03, -0.001, 0.06) }).promote).toBe(false);
    expect(decidePromotion({ heldOut: interval(0.03, 0, 0.06) }).promote).toBe(false);
    const worse = decidePromotion({ heldOut: interval(-0.02, -0.04, -0.01) });
    expect(worse.promote).toBe(false);
    expect(worse.outcome).toContain('promotion needs an interval above zero');
  });

  it("vetoes a held-out gain when the user's judged queries get worse on average, and says which", () => {
    const decision = decidePromotion({ heldOut: interval(0.03, 0.01, 0.05), userJudged: interval(-0.05, -0.2, 0.1, 4) });
    expect(decision.promote).toBe(false);
    expect(decision.outcome).toContain('worse on the 4 queries you judged (-0.0500 nDCG@10)');
  });

  it("promotes when the user's judged queries do not lose, and reports them", () => {
    const level = decidePromotion({ heldOut: interval(0.03, 0.01, 0.05), userJudged: interval(0, -0.1, 0.1, 3) });
    expect(level.promote).toBe(true);
    expect(level.outcome).toContain('+0.0000 [-0.1000, +0.1000] on the 3 queries you judged');
  });
});
