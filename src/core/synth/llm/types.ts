/**
 * The one small interface every LLM backend implements: an OpenAI-compatible HTTP endpoint or the
 * embedded local model. The synthetic-query generator only ever sees this.
 */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface CompletionRequest {
  messages: ChatMessage[];
  /** Upper bound on new tokens (the method: 50). */
  maxTokens: number;
  temperature: number;
  /** Aborts the request; the client rejects with an `LlmError` of kind 'cancelled'. */
  signal?: AbortSignal;
}

export interface CompletionResult {
  text: string;
  /** Token usage as the backend reports it (0 when it reports none). */
  promptTokens: number;
  completionTokens: number;
}

export interface LlmClient {
  /** For logs and summaries, e.g. "openai-compatible http://127.0.0.1:8080/v1, model gpt-4o-mini". */
  readonly description: string;
  /** Identifies the model in cache keys: a changed model never reuses another model's queries. */
  readonly modelId: string;
  /** Whether requests cost money (a cost estimate is shown before starting). */
  readonly paid: boolean;
  /** How many requests may be in flight at once. */
  readonly concurrency: number;
  /** Requests sent, retries included, and the retries alone: kept by the retrying wrapper. */
  readonly stats?: { readonly requests: number; readonly retries: number };
  complete(request: CompletionRequest): Promise<CompletionResult>;
  close(): Promise<void>;
}

export type LlmErrorKind =
  /** 429 */
  | 'rate-limit'
  /** 5xx */
  | 'server'
  /** no answer within the request timeout */
  | 'timeout'
  /** connection refused/reset, DNS, a body cut short */
  | 'network'
  /** 2xx with an unreadable or empty body (malformed JSON, no choices) */
  | 'bad-response'
  /** 401/403: retrying cannot help */
  | 'auth'
  /** other 4xx (unknown model, context too long): retrying cannot help */
  | 'bad-request'
  /** the caller's signal aborted */
  | 'cancelled'
  /** the circuit breaker is open: the endpoint kept failing */
  | 'circuit-open';

const RETRYABLE: ReadonlySet<LlmErrorKind> = new Set(['rate-limit', 'server', 'timeout', 'network', 'bad-response']);

export class LlmError extends Error {
  readonly retryable: boolean;

  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
    this.name = 'LlmError';
    this.retryable = RETRYABLE.has(kind);
  }

  get status(): number | undefined {
    return this.details.status;
  }

  /** The server's Retry-After, in ms, when it sent one. */
  get retryAfterMs(): number | undefined {
    return this.details.retryAfterMs;
  }
}
