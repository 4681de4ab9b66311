import * as ort from 'onnxruntime-node';
import { matmulModelBytes } from './matmulModel';

export interface ScoredIndex {
  index: number;
  score: number;
}

/**
 * Exact inner-product search for many queries at once over vectors held in memory: each block of
 * passages is one matrix product in onnxruntime, then a top-k per query. The round-trip filter and
 * candidate lists need the exact top 20 of hundreds of thousands of queries; one flat LanceDB scan
 * per query takes ~50 ms at 100k passages, a GEMM over 1,024 queries a few hundred ms in all.
 *
 * Scores are inner products, which rank exactly like cosine for the normalised vectors the store
 * keeps for cosine models (and are the similarity itself for dot-product models).
 */
export class BatchExactSearch {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** Passage vectors in blocks, each transposed to [dimension, block size] (MatMul's B). */
    private readonly blocks: { start: number; size: number; data: Float32Array }[],
    readonly dimension: number,
    readonly size: number,
  ) {}

  /** `vectors[i]` is passage i's vector; all of one dimension. */
  static async create(vectors: readonly Float32Array[], options: { threads?: number; blockSize?: number } = {}): Promise<BatchExactSearch> {
    const dimension = vectors[0]?.length ?? 0;
    const blockSize = options.blockSize ?? BLOCK_SIZE;
    const blocks: { start: number; size: number; data: Float32Array }[] = [];
    for (let start = 0; start < vectors.length; start += blockSize) {
      const size = Math.min(blockSize, vectors.length - start);
      const data = new Float32Array(dimension * size);
      for (let j = 0; j < size; j += 1) {
        const vector = vectors[start + j] as Float32Array;
        if (vector.length !== dimension) throw new Error(`vector ${start + j} has ${vector.length} dimensions, expected ${dimension}`);
        for (let d = 0; d < dimension; d += 1) data[d * size + j] = vector[d] as number;
      }
      blocks.push({ start, size, data });
    }
    const session = await ort.InferenceSession.create(matmulModelBytes(), {
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
      graphOptimizationLevel: 'all',
    });
    return new BatchExactSearch(session, blocks, dimension, vectors.length);
  }

  /** The k best passages per query, best first. */
  async search(queries: readonly Float32Array[], k: number): Promise<ScoredIndex[][]> {
    const results: ScoredIndex[][] = [];
    for (let first = 0; first < queries.length; first += QUERY_BATCH) {
      const batch = queries.slice(first, first + QUERY_BATCH);
      const a = new Float32Array(batch.length * this.dimension);
      batch.forEach((query, row) => {
        if (query.length !== this.dimension) throw new Error(`query vector has ${query.length} dimensions, expected ${this.dimension}`);
        a.set(query, row * this.dimension);
      });
      const heaps = batch.map(() => new TopK(k));
      const queryTensor = new ort.Tensor('float32', a, [batch.length, this.dimension]);
      for (const block of this.blocks) {
        const output = await this.session.run({ A: queryTensor, B: new ort.Tensor('float32', block.data, [this.dimension, block.size]) });
        const scores = output.Y?.data as Float32Array;
        for (let row = 0; row < batch.length; row += 1) {
          const heap = heaps[row] as TopK;
          const offset = row * block.size;
          for (let j = 0; j < block.size; j += 1) heap.offer(block.start + j, scores[offset + j] as number);
        }
      }
      for (const heap of heaps) results.push(heap.sorted());
    }
    return results;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Passages per matrix product: a [1024 × 8192] float32 result is 32 MB. */
const BLOCK_SIZE = 8192;
/** Queries per matrix product: big enough for GEMM efficiency, small enough for memory. */
const QUERY_BATCH = 1024;

/** The k largest scores seen, as a min-heap; ties keep the lower index (the earlier passage). */
class TopK {
  private readonly indices: number[] = [];
  private readonly scores: number[] = [];

  constructor(private readonly k: number) {}

  offer(index: number, score: number): void {
    if (this.indices.length < this.k) {
      this.indices.push(index);
      this.scores.push(score);
      this.up(this.indices.length - 1);
    } else if (this.k > 0 && score > (this.scores[0] as number)) {
      this.indices[0] = index;
      this.scores[0] = score;
      this.down(0);
    }
  }

  sorted(): ScoredIndex[] {
    return this.indices.map((index, i) => ({ index, score: this.scores[i] as number })).sort((a, b) => b.score - a.score || a.index - b.index);
  }

  /** Whether entry i ranks below entry j (the heap's top is the lowest). */
  private below(i: number, j: number): boolean {
    const si = this.scores[i] as number;
    const sj = this.scores[j] as number;
    return si < sj || (si === sj && (this.indices[i] as number) > (this.indices[j] as number));
  }

  private swap(i: number, j: number): void {
    [this.indices[i], this.indices[j]] = [this.indices[j] as number, this.indices[i] as number];
    [this.scores[i], this.scores[j]] = [this.scores[j] as number, this.scores[i] as number];
  }

  private up(start: number): void {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.below(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(start: number): void {
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let lowest = i;
      if (left < this.indices.length && this.below(left, lowest)) lowest = left;
      if (right < this.indices.length && this.below(right, lowest)) lowest = right;
      if (lowest === i) return;
      this.swap(i, lowest);
      i = lowest;
    }
  }
}
