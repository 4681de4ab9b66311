import { describe, expect, it } from 'vitest';
import { meanMetrics, mrrAtK, ndcgAtK, recallAtK, scoreQuery } from '../../src/core/eval/metrics';

const judged = (entries: [string, number][]) => new Map(entries);

describe('nDCG@10', () => {
  it('uses graded linear gains and a log2(rank + 1) discount', () => {
    const judgements = judged([
      ['a', 3],
      ['b', 1],
    ]);
    // DCG = 1/log2(2) + 3/log2(3); ideal = 3/log2(2) + 1/log2(3).
    const dcg = 1 + 3 / Math.log2(3);
    const ideal = 3 + 1 / Math.log2(3);
    expect(ndcgAtK(['b', 'a'], judgements)).toBeCloseTo(dcg / ideal, 12);
    expect(ndcgAtK(['a', 'b'], judgements)).toBeCloseTo(1, 12);
  });

  it('ignores documents past rank 10 and treats negative judgements as non-relevant', () => {
    const judgements = judged([
      ['hit', 1],
      ['source', -1],
    ]);
    const ranked = ['source', ...Array.from({ length: 9 }, (_, i) => `x${i}`), 'hit'];
    expect(ndcgAtK(ranked, judgements)).toBe(0);
    expect(ndcgAtK(['source', 'hit'], judgements)).toBeCloseTo(1 / Math.log2(3), 12);
  });

  it('is 0 for a query without relevant documents', () => {
    expect(ndcgAtK(['a'], judged([['a', 0]]))).toBe(0);
  });
});

describe('Recall@100 and MRR@10', () => {
  it('counts relevant documents found in the top 100, once each', () => {
    const judgements = judged([
      ['a', 1],
      ['b', 2],
      ['c', 1],
      ['d', -1],
    ]);
    expect(recallAtK(['a', 'a', 'd', 'b'], judgements)).toBeCloseTo(2 / 3, 12);
    const late = [...Array.from({ length: 100 }, (_, i) => `x${i}`), 'c'];
    expect(recallAtK(late, judgements)).toBe(0);
  });

  it('takes the reciprocal rank of the first relevant document within 10', () => {
    const judgements = judged([['r', 1]]);
    expect(mrrAtK(['x', 'y', 'r'], judgements)).toBeCloseTo(1 / 3, 12);
    expect(mrrAtK([...Array.from({ length: 10 }, (_, i) => `x${i}`), 'r'], judgements)).toBe(0);
  });

  it('averages per-query scores', () => {
    const a = scoreQuery('q1', ['r'], judged([['r', 1]]));
    const b = scoreQuery('q2', ['x'], judged([['r', 1]]));
    expect(meanMetrics([a, b])).toEqual({ 'ndcg@10': 0.5, 'recall@100': 0.5, 'mrr@10': 0.5 });
  });
});
