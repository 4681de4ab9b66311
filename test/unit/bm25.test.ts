import { describe, expect, it } from 'vitest';
import { analyze, encodeTermCounts } from '../../src/core/lexical/analyzer';
import { Bm25Index } from '../../src/core/lexical/bm25Index';

describe('analyzer', () => {
  it('lowercases, splits on non-alphanumerics, drops Lucene stop words and Porter-stems', () => {
    expect(analyze('The Connections were RUNNING, and it is generalization_v2!')).toEqual(['connect', 'were', 'run', 'gener', 'v2']);
    expect(analyze('Café naïve 東京')).toEqual(['café', 'naïv', '東京']);
  });

  it('encodes term counts compactly', () => {
    expect(encodeTermCounts('retry retries retrying the job')).toBe('retri:3 job:1');
  });
});

describe('BM25', () => {
  const docs = [
    { id: 'a', text: 'retry jobs with backoff' },
    { id: 'b', text: 'retry retry retry' },
    { id: 'c', text: 'dead letter queue for failed jobs after the last retry attempt' },
  ];
  const index = Bm25Index.build(docs.map((doc) => ({ id: doc.id, terms: encodeTermCounts(doc.text) })));

  it("scores with Lucene's idf and length normalisation (k1 0.9, b 0.4)", () => {
    const lengths = docs.map((doc) => analyze(doc.text).length);
    const avg = lengths.reduce((s, x) => s + x, 0) / lengths.length;
    const norm = (i: number) => 0.9 * (1 - 0.4 + (0.4 * (lengths[i] as number)) / avg);
    const idf = (df: number) => Math.log(1 + (3 - df + 0.5) / (df + 0.5));
    // "retry" occurs in all three documents (as "retri"), "backoff" in one.
    const expected = {
      a: idf(3) * (1 / (1 + norm(0))) + idf(1) * (1 / (1 + norm(0))),
      b: idf(3) * (3 / (3 + norm(1))),
      c: idf(3) * (1 / (1 + norm(2))),
    };
    const results = index.search('retry backoff', 10);
    expect(results.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    for (const result of results) expect(result.score).toBeCloseTo(expected[result.id as 'a' | 'b' | 'c'], 6);
  });

  it('counts repeated query terms and returns nothing for unknown or stop-word queries', () => {
    const once = index.search('backoff', 10)[0]?.score as number;
    expect(index.search('backoff backoff', 10)[0]?.score).toBeCloseTo(2 * once, 9);
    expect(index.search('the and of', 10)).toEqual([]);
    expect(index.search('zebra', 10)).toEqual([]);
  });

  it("scores given documents exactly as search does, 0 for a document without the query's terms or not indexed", () => {
    const searched = new Map(index.search('retry backoff', 10).map((hit) => [hit.id, hit.score]));
    expect(index.scoresOf('retry backoff', ['c', 'a', 'missing', 'b'])).toEqual([searched.get('c'), searched.get('a'), 0, searched.get('b')]);
    expect(index.scoresOf('backoff', ['b', 'a'])).toEqual([0, index.search('backoff', 1)[0]?.score]);
    expect(index.scoresOf('the and of', ['a'])).toEqual([0]);
    // The shared accumulator is reset between calls.
    expect(index.scoresOf('retry backoff', ['a'])).toEqual([searched.get('a')]);
  });

  it('returns the top k, breaking ties by id', () => {
    const tied = Bm25Index.build(['z', 'y', 'x'].map((id) => ({ id, terms: encodeTermCounts('same words') })));
    expect(tied.search('words', 2).map((r) => r.id)).toEqual(['x', 'y']);
  });
});

describe('BM25 top-k selection', () => {
  it('returns exactly what a full sort would, on a corpus large enough to need selection', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const words = ['flow', 'wing', 'heat', 'shock', 'layer', 'plate', 'mach', 'drag', 'lift', 'jet'];
    const docs = Array.from({ length: 3000 }, (_, i) => ({ id: `d${String(i).padStart(4, '0')}`, terms: encodeTermCounts(Array.from({ length: 1 + Math.floor(random() * 12) }, () => words[Math.floor(random() * words.length)]).join(' ')) }));
    const index = Bm25Index.build(docs);
    const all = index.search('flow wing shock drag', 3000);
    const sorted = [...all].sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    expect(all).toEqual(sorted);
    for (const k of [1, 10, 57]) expect(index.search('flow wing shock drag', k)).toEqual(sorted.slice(0, k));
  });
});
