import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import { CancelledError, SpecializeError, throwIfAborted } from '../errors';
import type { ResolvedModel } from '../models/resolvedModel';
import { embedWorkerScript } from '../util/paths';
import type { EmbedRequest, EmbedWorkerData, EmbedWorkerMessage, TextKind } from './protocol';

export type Precision = 'fp32' | 'int8';

export interface EmbedderOptions {
  model: ResolvedModel;
  precision?: Precision;
  /** Worker threads, each with its own session. One worker using every core is fastest on small machines. */
  workers?: number;
  /** onnxruntime intra-op threads per worker; defaults to the cores divided among the workers. */
  threads?: number;
  maxBatchTokens?: number;
  maxBatchSize?: number;
}

export interface EmbedCallOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Running totals, for throughput and FLOP accounting in benchmarks. */
export interface EmbedderStats {
  texts: number;
  tokens: number;
  paddedTokens: number;
}

/**
 * Texts per job sent to a worker: large enough that each job sorts into efficient batches, small
 * enough that progress moves and cancellation takes effect within a few seconds.
 */
const JOB_SIZE = 128;
/**
 * Padded tokens per inference batch. 2048 keeps a feed-forward activation (tokens × 1536 floats
 * for a 384-wide model, 12 MB) inside the L3 cache: measured 11% faster than 8192 on our 2-core
 * EPYC, and a quarter of the activation memory (bench/README.md).
 */
export const DEFAULT_BATCH_TOKENS = 2048;
export const DEFAULT_BATCH_SIZE = 64;

interface PendingJob {
  resolve: (message: { vectors: Float32Array; tokens: number; paddedTokens: number }) => void;
  reject: (error: Error) => void;
}

interface WorkerSlot {
  worker: Worker;
  pending: Map<number, PendingJob>;
}

/** A pool of embedding worker threads for one model version. */
export class Embedder {
  readonly stats: EmbedderStats = { texts: 0, tokens: 0, paddedTokens: 0 };
  private nextJobId = 0;
  private closed = false;

  private constructor(
    readonly model: ResolvedModel,
    readonly precision: Precision,
    /** The vector space this embedder writes into (see ModelVariant.version). */
    readonly version: string,
    readonly threads: number,
    private readonly slots: WorkerSlot[],
  ) {}

  get dimension(): number {
    return this.model.conventions.dimension;
  }

  static async create(options: EmbedderOptions): Promise<Embedder> {
    const precision = options.precision ?? 'fp32';
    const workers = Math.max(1, options.workers ?? 1);
    const threads = Math.max(1, options.threads ?? Math.floor(os.availableParallelism() / workers));
    const variant = precision === 'int8' ? options.model.int8 : options.model.fp32;
    if (!variant) {
      throw new SpecializeError(`Model ${options.model.id} has no int8 ONNX file.`, 'Run `specialize models prepare <model> --int8` first, or use fp32.', 'model-invalid');
    }
    // onnxruntime reads this from the real process environment when its library loads.
    process.env.ORT_DISABLE_TELEMETRY ??= '1';
    const data: EmbedWorkerData = {
      modelDir: options.model.dir,
      onnxPath: variant.path,
      // Cosine ranking ignores vector length, so cosine models' vectors are stored normalised:
      // then a plain dot product ranks exactly like their similarity.
      conventions: { ...options.model.conventions, normalize: options.model.conventions.normalize || options.model.conventions.similarity === 'cosine' },
      threads,
      maxBatchTokens: options.maxBatchTokens ?? DEFAULT_BATCH_TOKENS,
      maxBatchSize: options.maxBatchSize ?? DEFAULT_BATCH_SIZE,
    };
    const slots = await Promise.all(Array.from({ length: workers }, () => startWorker(data)));
    return new Embedder(options.model, precision, variant.version, threads, slots);
  }

  /** Embeds texts in input order. Never blocks the caller's event loop. */
  async embed(texts: readonly string[], kind: TextKind, options: EmbedCallOptions = {}): Promise<Float32Array[]> {
    if (this.closed) throw new Error('Embedder is closed');
    throwIfAborted(options.signal, 'embedding');
    const dim = this.dimension;
    const result: Float32Array[] = new Array<Float32Array>(texts.length);
    // Sorting by length across the whole call lets each job pad little.
    const order = texts.map((_, index) => index).sort((a, b) => (texts[b] as string).length - (texts[a] as string).length);
    const jobs: number[][] = [];
    for (let start = 0; start < order.length; start += JOB_SIZE) jobs.push(order.slice(start, start + JOB_SIZE));

    let done = 0;
    let nextJob = 0;
    options.onProgress?.(0, texts.length);
    const runSlot = async (slot: WorkerSlot): Promise<void> => {
      while (nextJob < jobs.length) {
        throwIfAborted(options.signal, 'embedding');
        const indices = jobs[nextJob++] as number[];
        const output = await this.send(slot, indices.map((i) => texts[i] as string), kind);
        indices.forEach((original, row) => {
          result[original] = output.vectors.subarray(row * dim, (row + 1) * dim);
        });
        this.stats.texts += indices.length;
        this.stats.tokens += output.tokens;
        this.stats.paddedTokens += output.paddedTokens;
        done += indices.length;
        options.onProgress?.(done, texts.length);
      }
    };
    await Promise.all(this.slots.map(runSlot));
    return result;
  }

  async embedOne(text: string, kind: TextKind, signal?: AbortSignal): Promise<Float32Array> {
    const [vector] = await this.embed([text], kind, signal ? { signal } : {});
    return vector as Float32Array;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private send(slot: WorkerSlot, texts: string[], kind: TextKind): Promise<{ vectors: Float32Array; tokens: number; paddedTokens: number }> {
    const id = this.nextJobId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      const request: EmbedRequest = { type: 'embed', id, texts, kind };
      slot.worker.postMessage(request);
    });
  }
}

function startWorker(data: EmbedWorkerData): Promise<WorkerSlot> {
  const worker = new Worker(embedWorkerScript(), { workerData: data });
  const slot: WorkerSlot = { worker, pending: new Map() };
  return new Promise((resolve, reject) => {
    let ready = false;
    const failAll = (error: Error) => {
      if (!ready) reject(error);
      for (const job of slot.pending.values()) job.reject(error);
      slot.pending.clear();
    };
    worker.on('message', (message: EmbedWorkerMessage) => {
      if (message.type === 'ready') {
        ready = true;
        resolve(slot);
      } else if (message.type === 'result') {
        const job = slot.pending.get(message.id);
        slot.pending.delete(message.id);
        job?.resolve(message);
      } else {
        const error = message.fix ? new SpecializeError(message.message, message.fix, 'model-invalid') : new Error(`Embedding worker failed: ${message.message}`);
        if (message.id === null) {
          failAll(error);
          void worker.terminate();
          return;
        }
        const job = slot.pending.get(message.id);
        slot.pending.delete(message.id);
        job?.reject(error);
      }
    });
    worker.on('error', (error) => failAll(new Error(`Embedding worker crashed: ${error.message}`)));
    worker.on('exit', (code) => {
      if (slot.pending.size > 0 || !ready) failAll(code === 1 ? new CancelledError('embedding') : new Error(`Embedding worker exited with code ${code}`));
    });
  });
}
