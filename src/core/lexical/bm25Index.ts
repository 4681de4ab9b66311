import { analyze } from './analyzer';

/**
 * An in-memory BM25 index with Lucene's scoring: idf = ln(1 + (N - df + 0.5) / (df + 0.5)) and
 * term weight tf / (tf + k1 · (1 - b + b · dl / avgdl)), summed over query terms (times their
 * count in the query). Defaults k1 = 0.9, b = 0.4 are Anserini's, the usual BM25 baseline.
 *
 * Hand-written because LanceDB's full-text search fixes k1 = 1.2, b = 0.75 and its own analyzer
 * (Snowball stemmer, a longer stop list) in the release that installs on every platform, so it
 * cannot reproduce the standard baseline the method's comparisons are reported against.
 */
export interface Bm25Parameters {
  k1: number;
  b: number;
}

export const DEFAULT_BM25: Bm25Parameters = { k1: 0.9, b: 0.4 };

export interface Bm25Document {
  id: string;
  /** `term:count …` as produced by encodeTermCounts. */
  terms: string;
}

export class Bm25Index {
  private readonly ids: string[] = [];
  /** Per document: k1 · (1 - b + b · dl / avgdl), precomputed once the lengths are known. */
  private norms = new Float32Array(0);
  private readonly termIds = new Map<string, number>();
  private postingDocs: Int32Array[] = [];
  private postingCounts: Uint16Array[] = [];
  /** Score accumulator reused across queries; only touched entries are reset after each search. */
  private scratch = new Float64Array(0);
  /** Document index by id, built on the first `scoresOf`. */
  private positions: Map<string, number> | undefined;

  private constructor(private readonly parameters: Bm25Parameters) {}

  get size(): number {
    return this.ids.length;
  }

  static build(documents: Iterable<Bm25Document>, parameters: Bm25Parameters = DEFAULT_BM25): Bm25Index {
    const index = new Bm25Index(parameters);
    const lengths: number[] = [];
    // Postings are gathered as growable number arrays, then frozen into typed arrays.
    const docs: number[][] = [];
    const counts: number[][] = [];
    for (const document of documents) {
      const doc = index.ids.length;
      index.ids.push(document.id);
      let length = 0;
      if (document.terms !== '') {
        for (const pair of document.terms.split(' ')) {
          const colon = pair.lastIndexOf(':');
          const term = pair.slice(0, colon);
          const count = Number(pair.slice(colon + 1));
          let termId = index.termIds.get(term);
          if (termId === undefined) {
            termId = docs.length;
            index.termIds.set(term, termId);
            docs.push([]);
            counts.push([]);
          }
          (docs[termId] as number[]).push(doc);
          (counts[termId] as number[]).push(Math.min(count, 65535));
          length += count;
        }
      }
      lengths.push(length);
    }
    index.postingDocs = docs.map((list) => Int32Array.from(list));
    index.postingCounts = counts.map((list) => Uint16Array.from(list));
    const average = lengths.reduce((sum, value) => sum + value, 0) / Math.max(1, lengths.length);
    const { k1, b } = parameters;
    index.norms = Float32Array.from(lengths, (length) => k1 * (1 - b + (b * length) / Math.max(average, 1e-9)));
    return index;
  }

  /** Top k documents for a free-text query; ties go to the smaller id, as in the reference. */
  search(query: string, k: number): { id: string; score: number }[] {
    const touched = this.accumulate(query);
    const scores = this.scratch;
    const best = topK(touched, scores, this.ids, k).map((doc) => ({ id: this.ids[doc] as string, score: scores[doc] as number }));
    for (const doc of touched) scores[doc] = 0;
    return best;
  }

  /** The query's BM25 score of each given document (0 for one that shares no term, or is not indexed). */
  scoresOf(query: string, ids: readonly string[]): number[] {
    this.positions ??= new Map(this.ids.map((id, doc) => [id, doc]));
    const touched = this.accumulate(query);
    const result = ids.map((id) => {
      const doc = (this.positions as Map<string, number>).get(id);
      return doc === undefined ? 0 : (this.scratch[doc] as number);
    });
    for (const doc of touched) this.scratch[doc] = 0;
    return result;
  }

  /** Adds the query's score into `scratch` for every document it touches; returns those documents (the caller resets them). */
  private accumulate(query: string): number[] {
    const queryCounts = new Map<number, number>();
    for (const term of analyze(query)) {
      const termId = this.termIds.get(term);
      if (termId !== undefined) queryCounts.set(termId, (queryCounts.get(termId) ?? 0) + 1);
    }
    const n = this.ids.length;
    if (this.scratch.length !== n) this.scratch = new Float64Array(n);
    if (queryCounts.size === 0) return [];
    const scores = this.scratch;
    const touched: number[] = [];
    for (const [termId, queryCount] of queryCounts) {
      const docs = this.postingDocs[termId] as Int32Array;
      const counts = this.postingCounts[termId] as Uint16Array;
      const weight = Math.log(1 + (n - docs.length + 0.5) / (docs.length + 0.5)) * queryCount;
      for (let i = 0; i < docs.length; i += 1) {
        const doc = docs[i] as number;
        const tf = counts[i] as number;
        if (scores[doc] === 0) touched.push(doc);
        scores[doc] = (scores[doc] as number) + (weight * tf) / (tf + (this.norms[doc] as number));
      }
    }
    return touched;
  }
}

/**
 * The k best documents by score, ties broken by the smaller id. A size-k min-heap over the touched
 * documents: a long query touches tens of thousands of documents, and sorting them all cost more
 * than scoring them.
 */
function topK(candidates: readonly number[], scores: Float64Array, ids: readonly string[], k: number): number[] {
  // `worse(a, b)`: a ranks below b.
  const worse = (a: number, b: number) => (scores[a] as number) < (scores[b] as number) || (scores[a] === scores[b] && (ids[a] as string) > (ids[b] as string));
  const heap: number[] = [];
  const siftDown = (from: number) => {
    let i = from;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && worse(heap[left] as number, heap[smallest] as number)) smallest = left;
      if (right < heap.length && worse(heap[right] as number, heap[smallest] as number)) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest] as number, heap[i] as number];
      i = smallest;
    }
  };
  for (const doc of candidates) {
    if (heap.length < k) {
      heap.push(doc);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (!worse(heap[i] as number, heap[parent] as number)) break;
        [heap[i], heap[parent]] = [heap[parent] as number, heap[i] as number];
        i = parent;
      }
    } else if (worse(heap[0] as number, doc)) {
      heap[0] = doc;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
}
