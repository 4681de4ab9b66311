import { describe, expect, it } from 'vitest';
import { fuseCandidates } from '../../src/core/synth/candidates';

describe('training candidates fused with BM25', () => {
  it('orders the union by reciprocal rank (k = 60), student first on ties, held-out passages removed', () => {
    const fused = fuseCandidates(['s1', 'held', 's2', 'both'], ['both', 'b1', 'held', 's1'], new Set(['held']), 3);
    // Cut to depth 3 after removing held-out: student [s1, s2, both], bm25 [both, b1, s1].
    // s1: 1/61 + 1/63, both: 1/63 + 1/61 (tie, student's order first), s2: 1/62, b1: 1/62.
    expect(fused).toEqual(['s1', 'both', 's2', 'b1']);
    expect(fused).not.toContain('held');
  });

  it('keeps the student list as it is when BM25 finds nothing', () => {
    expect(fuseCandidates(['a', 'b', 'c'], [], new Set(), 20)).toEqual(['a', 'b', 'c']);
  });
});
