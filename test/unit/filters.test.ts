import { describe, expect, it } from 'vitest';
import { percentile, roundTripFilter, scorePercentileFilter, teacherFilter } from '../../src/core/synth/filters';
import type { QueryRecord, StudentRank, WithTeacherScores } from '../../src/core/synth/filterTypes';

const q = (passage_id: string, query: string, type = 'question'): QueryRecord => ({ passage_id, type, query });

/** A fake student: fixed top lists per query text, recording every call. */
function fakeRank(lists: Record<string, string[]>) {
  const calls: { texts: string[]; k: number }[] = [];
  const rank: StudentRank = async (texts, k) => {
    calls.push({ texts: [...texts], k });
    return texts.map((text) => lists[text] ?? []);
  };
  return { rank, calls };
}

describe('roundTripFilter', () => {
  it('keeps a query only if its source passage is in the student top k, and returns the candidates', async () => {
    const { rank, calls } = fakeRank({
      found: ['x', 'p1', 'y'],
      missed: ['x', 'y', 'z'],
      // The source at rank 21 is outside the top 20, even though the student returned it.
      deep: [...Array.from({ length: 20 }, (_, i) => `n${i}`), 'p3'],
    });
    const result = await roundTripFilter([q('p1', 'found'), q('p2', 'missed'), q('p3', 'deep')], { rank });
    expect(calls).toEqual([{ texts: ['found', 'missed', 'deep'], k: 20 }]);
    expect(result.kept).toEqual([{ ...q('p1', 'found'), candidates: ['x', 'p1', 'y'] }]);
    expect(result.dropped.map((d) => [d.passage_id, d.reason])).toEqual([
      ['p2', 'not-in-student-top-k'],
      ['p3', 'not-in-student-top-k'],
    ]);
    expect(result.dropped[1]?.candidates).toHaveLength(20);
  });

  it('removes held-out passages from every candidate list, and never searches held-out queries', async () => {
    const { rank, calls } = fakeRank({ a: ['h1', 'p1', 'h2', 'x'], b: ['h1', 'x'] });
    const result = await roundTripFilter([q('p1', 'a'), q('p2', 'b'), q('h1', 'eval query')], { rank, heldOutIds: new Set(['h1', 'h2']) });
    expect(calls.map((c) => c.texts)).toEqual([['a', 'b']]);
    expect(result.kept).toEqual([{ ...q('p1', 'a'), candidates: ['p1', 'x'] }]);
    expect(result.dropped).toEqual([
      { ...q('h1', 'eval query'), candidates: [], reason: 'source-held-out' },
      { ...q('p2', 'b'), candidates: ['x'], reason: 'not-in-student-top-k' },
    ]);
  });

  it('ranks in batches, passes k, and reports progress', async () => {
    const queries = Array.from({ length: 5 }, (_, i) => q(`p${i}`, `query ${i}`));
    const { rank, calls } = fakeRank(Object.fromEntries(queries.map((x) => [x.query, [x.passage_id, 'other']])));
    const progress: [number, number][] = [];
    const result = await roundTripFilter(queries, { rank, k: 1, batchSize: 2, onProgress: (done, total) => progress.push([done, total]) });
    expect(calls.map((c) => c.texts.length)).toEqual([2, 2, 1]);
    expect(calls.every((c) => c.k === 1)).toBe(true);
    expect(progress).toEqual([
      [0, 5],
      [2, 5],
      [4, 5],
      [5, 5],
    ]);
    // k = 1 keeps only the top id as the candidate list.
    expect(result.kept.map((x) => x.candidates)).toEqual(queries.map((x) => [x.passage_id]));
  });

  it('fails loudly if the ranker loses queries', async () => {
    const rank: StudentRank = async () => [];
    await expect(roundTripFilter([q('p', 'text')], { rank })).rejects.toThrow(/0 result lists for 1 queries/);
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const { rank } = fakeRank({});
    await expect(roundTripFilter([q('p', 'text')], { rank, signal: controller.signal })).rejects.toThrow(/cancelled/);
  });
});

describe('teacherFilter', () => {
  const scores: Record<string, Record<string, number>> = {
    clear: { src: 0.9, a: 0.2, b: 0.1 },
    tie: { src: 0.7, a: 0.7, b: 0.1 },
    beaten: { src: 0.5, a: 0.50001, b: 0.1 },
    missing: { src: 0.8, a: 0.3 },
  };
  const score = async (query: string, ids: readonly string[]) => ids.map((id) => scores[query]?.[id] ?? 0);

  it('keeps a query whose source passage the teacher scores at least as high as every other candidate', async () => {
    const items = [
      { ...q('src', 'clear'), candidates: ['a', 'src', 'b'] },
      { ...q('src', 'tie'), candidates: ['a', 'src', 'b'] },
      { ...q('src', 'beaten'), candidates: ['a', 'src', 'b'] },
    ];
    const progress: number[] = [];
    const result = await teacherFilter(items, { score, onProgress: (done) => progress.push(done) });
    expect(result.kept.map((x) => x.query)).toEqual(['clear', 'tie']);
    expect(result.kept[0]).toEqual({ ...items[0], teacherScores: [0.2, 0.9, 0.1] });
    expect(result.dropped).toEqual([{ ...items[2], teacherScores: [0.50001, 0.5, 0.1], reason: 'teacher-prefers-other' }]);
    expect(progress).toEqual([0, 1, 2, 3]);
  });

  it('scores the source passage even when the candidates lack it, and puts it first', async () => {
    const seen: string[][] = [];
    const result = await teacherFilter([{ ...q('src', 'missing'), candidates: ['a'] }], {
      score: async (query, ids) => {
        seen.push([...ids]);
        return score(query, ids);
      },
    });
    expect(seen).toEqual([['src', 'a']]);
    expect(result.kept).toEqual([{ ...q('src', 'missing'), candidates: ['src', 'a'], teacherScores: [0.8, 0.3] }]);
  });

  it('rejects a teacher that returns the wrong number of scores or a non-number', async () => {
    const item = { ...q('src', 'clear'), candidates: ['src', 'a'] };
    await expect(teacherFilter([item], { score: async () => [1] })).rejects.toThrow(/1 scores for 2 passages/);
    await expect(teacherFilter([item], { score: async () => [1, Number.NaN] })).rejects.toThrow(/finite/);
  });
});

describe('percentile', () => {
  // Expected values are numpy's: np.percentile(values, p) with its default method 'linear'.
  it.each([
    [[1, 2, 3, 4], 25, 1.75],
    [[10, 20, 30, 40, 50], 25, 20],
    [[3, 1, 2], 25, 1.5],
    [[0.1, 0.4, 0.35, 0.8], 25, 0.2875],
    [[7], 25, 7],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9.1],
    [[5, 1, 4], 0, 1],
    [[5, 1, 4], 100, 5],
    [[0.2, 0.9, 0.5, 0.7, 0.3, 0.6], 25, 0.35],
    [[2.5, -1], 50, 0.75],
  ])('np.percentile(%j, %s) = %s', (values, p, expected) => {
    expect(percentile(values, p)).toBeCloseTo(expected, 12);
  });

  it('interpolates exactly as numpy does, to the last bit', () => {
    // Sorted [-3.2, 0.7, 2.2, 4.1], position 3 × 0.25 = 0.75, so −0.275 by hand. numpy computes a
    // fraction ≥ 0.5 from the upper value (0.7 − 3.9 × 0.25) and prints -0.27500000000000013; the
    // textbook −3.2 + 3.9 × 0.75 would give -0.2749999999999999.
    expect(percentile([-3.2, 4.1, 0.7, 2.2], 25)).toBe(-0.27500000000000013);
  });

  it('rejects empty input, NaN and percentiles outside 0–100', () => {
    expect(() => percentile([], 25)).toThrow(RangeError);
    expect(() => percentile([1, Number.NaN], 25)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('scorePercentileFilter', () => {
  const item = (id: string, type: string, scores: number[]): QueryRecord & WithTeacherScores => ({
    ...q(id, `query ${id}`, type),
    candidates: scores.map((_, i) => (i === 0 ? id : `${id}-neg${i}`)),
    teacherScores: scores,
  });

  it('drops items whose top score is below the 25th percentile of their query type', () => {
    // Questions' top scores 1, 2, 3, 4: threshold 1.75. Titles' top scores 10…50: threshold 20
    // (a score equal to the threshold stays).
    const items = [
      item('q1', 'question', [1, 0.5]),
      item('q2', 'question', [0.1, 2]),
      item('q3', 'question', [3]),
      item('q4', 'question', [4, 1]),
      ...[10, 20, 30, 40, 50].map((s) => item(`t${s}`, 'title', [s, 0])),
    ];
    const result = scorePercentileFilter(items);
    expect(result.dropped).toEqual([
      { ...items[0], reason: 'below-score-percentile' },
      { ...items[4], reason: 'below-score-percentile' },
    ]);
    expect(result.kept.map((x) => x.passage_id)).toEqual(['q2', 'q3', 'q4', 't20', 't30', 't40', 't50']);
    // Pooled into one group (threshold 3 over all nine), the titles' larger scale decides instead.
    const pooled = scorePercentileFilter(items, { groupBy: () => 'all' });
    expect(pooled.dropped.map((x) => x.passage_id)).toEqual(['q1', 'q2']);
  });

  it('takes the percentile as an option', () => {
    const items = [1, 2, 3, 4].map((s) => item(`q${s}`, 'question', [s]));
    expect(scorePercentileFilter(items, { percentile: 50 }).kept.map((x) => x.passage_id)).toEqual(['q3', 'q4']);
    expect(scorePercentileFilter(items, { percentile: 0 }).dropped).toEqual([]);
  });
});
