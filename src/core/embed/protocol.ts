import type { ModelConventions } from '../models/conventions';

/** Messages between the embedding pool (main thread) and its worker threads. */
export interface EmbedWorkerData {
  modelDir: string;
  onnxPath: string;
  conventions: ModelConventions;
  /** onnxruntime intra-op threads for this worker. */
  threads: number;
  /** Padded tokens per inference batch; bounds memory and keeps batches efficient. */
  maxBatchTokens: number;
  maxBatchSize: number;
}

export type TextKind = 'query' | 'passage';

export interface EmbedRequest {
  type: 'embed';
  id: number;
  texts: string[];
  kind: TextKind;
}

export type EmbedWorkerMessage =
  | { type: 'ready'; dimension: number }
  | { type: 'result'; id: number; vectors: Float32Array; tokens: number; paddedTokens: number }
  | { type: 'error'; id: number | null; message: string; fix?: string };
