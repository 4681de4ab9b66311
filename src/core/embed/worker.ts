/**
 * Embedding worker thread: tokenizes, runs the encoder and pools, so the caller's event loop never
 * blocks on inference. One worker owns one onnxruntime session.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isSpecializeError } from '../errors';
import { EncoderSession } from './onnxSession';
import { poolBatch, normalizeInPlace } from './pooling';
import type { EmbedRequest, EmbedWorkerData, EmbedWorkerMessage, TextKind } from './protocol';
import { TextTokenizer } from './tokenize';

const config = workerData as EmbedWorkerData;
const port = parentPort;
if (!port) throw new Error('embed worker must run in a worker thread');

function post(message: EmbedWorkerMessage, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

function errorMessage(id: number | null, error: unknown): EmbedWorkerMessage {
  if (isSpecializeError(error)) return { type: 'error', id, message: error.message, fix: error.fix };
  return { type: 'error', id, message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}

async function main(): Promise<void> {
  const { conventions } = config;
  const tokenizer = TextTokenizer.fromModelDir(config.modelDir, conventions.maxSeqLength);
  const session = await EncoderSession.open(config.onnxPath, config.threads);
  const promptTokens: Record<TextKind, number> = {
    query: conventions.includePrompt ? 0 : tokenizer.promptLength(conventions.queryPrompt),
    passage: conventions.includePrompt ? 0 : tokenizer.promptLength(conventions.passagePrompt),
  };

  async function embed(request: EmbedRequest): Promise<void> {
    const prompt = request.kind === 'query' ? conventions.queryPrompt : conventions.passagePrompt;
    const encoded = request.texts.map((text) => tokenizer.encode(prompt + text).ids);
    // Longest first: similar lengths share a batch (little padding) and memory peaks early.
    const order = encoded.map((_, index) => index).sort((a, b) => (encoded[b] as number[]).length - (encoded[a] as number[]).length);
    const dim = conventions.dimension;
    const vectors = new Float32Array(encoded.length * dim);
    let tokens = 0;
    let paddedTokens = 0;
    for (let start = 0; start < order.length; ) {
      const seq = (encoded[order[start] as number] as number[]).length;
      const size = Math.max(1, Math.min(config.maxBatchSize, Math.floor(config.maxBatchTokens / seq), order.length - start));
      const rows = order.slice(start, start + size);
      start += size;
      const ids = new BigInt64Array(size * seq).fill(BigInt(tokenizer.padId));
      const attention = new BigInt64Array(size * seq);
      const poolMask: Uint8Array[] = [];
      rows.forEach((row, b) => {
        const rowIds = encoded[row] as number[];
        const mask = new Uint8Array(seq);
        for (let t = 0; t < rowIds.length; t += 1) {
          ids[b * seq + t] = BigInt(rowIds[t] as number);
          attention[b * seq + t] = 1n;
          mask[t] = t < promptTokens[request.kind] ? 0 : 1;
        }
        tokens += rowIds.length;
        poolMask.push(mask);
      });
      paddedTokens += size * seq;
      const output = await session.run(ids, attention, size, seq);
      let pooled: Float32Array;
      if (session.pooled) {
        pooled = output.data;
        if (conventions.normalize) for (let b = 0; b < size; b += 1) normalizeInPlace(pooled.subarray(b * dim, (b + 1) * dim));
      } else {
        pooled = poolBatch(output.data, poolMask, seq, output.dims[2] ?? dim, conventions.pooling, conventions.normalize);
      }
      rows.forEach((row, b) => vectors.set(pooled.subarray(b * dim, (b + 1) * dim), row * dim));
    }
    post({ type: 'result', id: request.id, vectors, tokens, paddedTokens }, [vectors.buffer]);
  }

  // Requests are handled one at a time: the session already uses all of this worker's threads.
  let queue = Promise.resolve();
  port?.on('message', (request: EmbedRequest) => {
    queue = queue.then(() => embed(request)).catch((error: unknown) => post(errorMessage(request.id, error)));
  });
  post({ type: 'ready', dimension: conventions.dimension });
}

main().catch((error: unknown) => post(errorMessage(null, error)));
