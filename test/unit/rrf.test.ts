import { describe, expect, it } from 'vitest';
import { fuseReciprocalRank } from '../../src/core/search/rrf';

const list = (...ids: string[]) => ids.map((id, i) => ({ id, score: 10 - i }));

describe('reciprocal rank fusion', () => {
  it('sums weight / (60 + rank) over the lists that contain a document', () => {
    const fused = fuseReciprocalRank([
      { results: list('a', 'b', 'c'), weight: 1 },
      { results: list('c', 'a'), weight: 1 },
    ]);
    const score = Object.fromEntries(fused.map((r) => [r.id, r.score]));
    expect(score.a).toBeCloseTo(1 / 61 + 1 / 62, 12);
    expect(score.c).toBeCloseTo(1 / 63 + 1 / 61, 12);
    expect(score.b).toBeCloseTo(1 / 62, 12);
    expect(fused.map((r) => r.id)).toEqual(['a', 'c', 'b']);
    expect(fused[0]?.ranks).toEqual([1, 2]);
    expect(fused[2]?.ranks).toEqual([2, null]);
  });

  it('lets weights shift the balance between lists', () => {
    const dense = { results: list('d'), weight: 1 };
    const bm25 = { results: list('b'), weight: 1 };
    expect(fuseReciprocalRank([dense, { ...bm25, weight: 2 }])[0]?.id).toBe('b');
    expect(fuseReciprocalRank([{ ...dense, weight: 2 }, bm25])[0]?.id).toBe('d');
    expect(fuseReciprocalRank([dense, { ...bm25, weight: 0 }]).find((r) => r.id === 'b')?.score).toBe(0);
  });

  it('counts a document once per list even if a list repeats it', () => {
    const fused = fuseReciprocalRank([{ results: list('a', 'a'), weight: 1 }]);
    expect(fused).toHaveLength(1);
    expect(fused[0]?.score).toBeCloseTo(1 / 61, 12);
  });
});
