import { describe, expect, it } from 'vitest';
import { BatchExactSearch } from '../../src/core/search/batchExactSearch';

/** Deterministic pseudo-random vectors (a small LCG), so failures reproduce. */
function vectors(count: number, dimension: number, seed: number): Float32Array[] {
  let state = seed;
  const next = () => {
    state = (state * 1664525 + 1013904223) % 2 ** 32;
    return state / 2 ** 32 - 0.5;
  };
  return Array.from({ length: count }, () => Float32Array.from({ length: dimension }, next));
}

function bruteForce(passages: Float32Array[], query: Float32Array, k: number): number[] {
  return passages
    .map((passage, index) => ({ index, score: passage.reduce((sum, value, d) => sum + value * (query[d] as number), 0) }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, k)
    .map((hit) => hit.index);
}

describe('BatchExactSearch', () => {
  it('returns the exact top k over several passage blocks, as a brute-force scan does', async () => {
    const passages = vectors(1000, 24, 7);
    const queries = vectors(37, 24, 99);
    const search = await BatchExactSearch.create(passages, { blockSize: 128, threads: 1 });
    try {
      const found = await search.search(queries, 20);
      expect(found).toHaveLength(queries.length);
      for (const [i, query] of queries.entries()) {
        expect(found[i]?.map((hit) => hit.index)).toEqual(bruteForce(passages, query, 20));
        const scores = found[i]?.map((hit) => hit.score) ?? [];
        expect(scores).toEqual([...scores].sort((a, b) => b - a));
      }
    } finally {
      await search.close();
    }
  });

  it('returns fewer than k when there are fewer passages, and rejects a vector of the wrong size', async () => {
    const search = await BatchExactSearch.create(vectors(5, 8, 1));
    try {
      expect((await search.search(vectors(1, 8, 2), 20))[0]).toHaveLength(5);
      await expect(search.search([new Float32Array(7)], 3)).rejects.toThrow(/7 dimensions, expected 8/);
    } finally {
      await search.close();
    }
  });
});
