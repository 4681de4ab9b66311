import { CircuitBreaker, cancelledError, type Sleep, sleepUnlessCancelled } from './circuitBreaker';
import { type CompletionRequest, type CompletionResult, type LlmClient, LlmError, type LlmErrorKind } from './types';

/**
 * Wraps a client with what every remote endpoint needs over a long run: exponential backoff with
 * full jitter on retryable errors, the server's Retry-After, a cap on requests in flight, and a
 * circuit breaker that pauses the run while the endpoint keeps failing.
 */

export interface RetryOptions {
  /** Attempts per request, the first included (default 6). */
  maxAttempts?: number;
  /** Backoff before the first retry, before jitter (default 500 ms). */
  baseDelayMs?: number;
  /** Growth of the backoff per retry (default 2). */
  factor?: number;
  /** Upper bound on the backoff, before jitter (default 30 s). */
  maxDelayMs?: number;
  /** A server's Retry-After is honoured up to this (default 120 s): a day-long value is a misconfiguration, not advice. */
  maxRetryAfterMs?: number;
  /** Shared by every request through this client (default: a breaker with default settings). */
  breaker?: CircuitBreaker;
  sleep?: Sleep;
  /** In [0, 1); the jitter source. */
  random?: () => number;
}

export interface RetryStats {
  /** Attempts sent to the endpoint, retries included. */
  requests: number;
  retries: number;
  /** Failed attempts by kind, the final ones included. */
  failures: Partial<Record<LlmErrorKind, number>>;
}

export class RetryingClient implements LlmClient {
  readonly description: string;
  readonly modelId: string;
  readonly paid: boolean;
  readonly concurrency: number;

  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly factor: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly breaker: CircuitBreaker;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly slots: Semaphore;
  private readonly counts: RetryStats = { requests: 0, retries: 0, failures: {} };

  constructor(
    private readonly inner: LlmClient,
    options: RetryOptions = {},
  ) {
    this.description = inner.description;
    this.modelId = inner.modelId;
    this.paid = inner.paid;
    this.concurrency = inner.concurrency;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 6);
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.factor = options.factor ?? 2;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 120_000;
    this.breaker = options.breaker ?? new CircuitBreaker({ endpoint: inner.description });
    this.sleep = options.sleep ?? sleepUnlessCancelled;
    this.random = options.random ?? Math.random;
    this.slots = new Semaphore(Math.max(1, inner.concurrency));
  }

  get stats(): RetryStats {
    return { requests: this.counts.requests, retries: this.counts.retries, failures: { ...this.counts.failures } };
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    // The slot is held across retries: while the endpoint struggles, requests waiting to retry
    // keep new ones from piling onto it.
    const release = await this.slots.acquire(request.signal);
    try {
      for (let attempt = 1; ; attempt++) {
        const permit = await this.breaker.acquire(request.signal);
        this.counts.requests += 1;
        try {
          const result = await this.inner.complete(request);
          permit.succeeded();
          return result;
        } catch (error) {
          permit.failed(error);
          if (!(error instanceof LlmError)) throw error;
          this.counts.failures[error.kind] = (this.counts.failures[error.kind] ?? 0) + 1;
          if (!error.retryable || attempt >= this.maxAttempts) throw error;
          this.counts.retries += 1;
          await this.sleep(this.delayBeforeRetry(attempt, error), request.signal);
        }
      }
    } finally {
      release();
    }
  }

  /** Full jitter spreads retries of requests that failed together, so they do not return together. */
  private delayBeforeRetry(failedAttempt: number, error: LlmError): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * this.factor ** (failedAttempt - 1));
    const backoff = this.random() * ceiling;
    const serverAsked = Math.min(error.retryAfterMs ?? 0, this.maxRetryAfterMs);
    return Math.max(backoff, serverAsked);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** At most `limit` holders at once; waiters are served first come, first served. */
class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw cancelledError();
    if (this.active < this.limit) this.active += 1;
    else await this.enqueue(signal);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Hand the slot straight to the next waiter so a newcomer cannot overtake it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    };
  }

  private enqueue(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiting.splice(this.waiting.indexOf(grant), 1);
        reject(cancelledError());
      };
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.waiting.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
