import { SpecializeError } from '../../errors';
import type { ProgressListener } from '../../progress';
import { CircuitBreaker, type BreakerEvent } from './circuitBreaker';
import { LocalLlmClient } from './localClient';
import { resolveLocalModelFile } from './localModelFile';
import { OpenAiCompatibleClient } from './openaiClient';
import { RetryingClient } from './retry';
import type { LlmClient } from './types';

/** The CLI reads the endpoint's key from here, never from a file in the repository. */
export const LLM_API_KEY_ENV = 'SPECIALIZE_LLM_API_KEY';

export interface CreateLlmOptions {
  /** "local" for the embedded model, or an OpenAI-compatible base URL. */
  llm: string;
  /** Endpoint model name (required with a URL); a .gguf file for the local model (default: packaged). */
  model?: string;
  apiKey?: string | undefined;
  concurrency?: number;
  timeoutMs?: number;
  /** Attempts per request before it counts as failed (the breaker pauses in between). */
  maxAttempts?: number;
  /** Whether the endpoint charges; default: by host (local and private networks do not). */
  paid?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** The breaker opening, half-opening and closing (the CLI prints it; the extension shows it). */
  onBreaker?: (event: BreakerEvent) => void;
}

/**
 * Builds the client the generator talks to: the chosen backend, behind retries with backoff and a
 * circuit breaker. Retries are many because the breaker, not the attempt count, decides when an
 * endpoint is down: a request outlives a pause of a few minutes rather than being given up.
 */
export async function createLlmClient(options: CreateLlmOptions): Promise<LlmClient> {
  const inner = await backend(options);
  const breaker = new CircuitBreaker({ endpoint: inner.description, ...(options.onBreaker ? { onStateChange: options.onBreaker } : {}) });
  return new RetryingClient(inner, { maxAttempts: options.maxAttempts ?? 12, breaker });
}

async function backend(options: CreateLlmOptions): Promise<LlmClient> {
  if (options.llm === 'local') {
    const file = await resolveLocalModelFile(options.model, { ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    return LocalLlmClient.create({ modelPath: file.path, sha256: file.sha256, ...(options.concurrency ? { concurrency: options.concurrency } : {}) });
  }
  if (!/^https?:\/\//i.test(options.llm)) {
    throw new SpecializeError(`--llm "${options.llm}" is neither "local" nor an http(s) URL.`, 'Use --llm local, or the base URL of an OpenAI-compatible endpoint such as http://localhost:11434/v1.');
  }
  if (!options.model) {
    throw new SpecializeError(`--llm ${options.llm} needs --model: the name the endpoint serves.`, 'Add --model, e.g. --model gpt-4o-mini (OpenAI) or --model llama3.1:8b (Ollama).');
  }
  return new OpenAiCompatibleClient({
    baseUrl: options.llm,
    model: options.model,
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.paid !== undefined ? { paid: options.paid } : {}),
  });
}
