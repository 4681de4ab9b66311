import { LlmError } from './types';

/**
 * Stops a run from hammering an endpoint that keeps failing. After `failureThreshold` consecutive
 * retryable failures the breaker opens: callers wait (the run pauses) until a cool-down ends, then
 * one trial request goes through (half-open). Its success closes the breaker; its failure re-opens
 * it with a doubled cool-down. Only when the endpoint has been failing for longer than
 * `maxOpenMs` does the breaker give up and fail requests with an LlmError of kind 'circuit-open'.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerEvent {
  state: BreakerState;
  consecutiveFailures: number;
  /** While open: when the next trial request may go (epoch ms of the breaker's clock). */
  reopenAt?: number;
  /** While open: the length of this cool-down, for "endpoint failing, paused 30 s". */
  coolDownMs?: number;
  /** The endpoint failed for longer than `maxOpenMs`: requests now fail with 'circuit-open'. */
  gaveUp?: boolean;
}

/** Waits `ms`; rejects with an LlmError of kind 'cancelled' as soon as `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface CircuitBreakerOptions {
  /** Consecutive retryable failures that open the breaker (default 8). */
  failureThreshold?: number;
  /** The first cool-down (default 30 s); each re-open doubles it up to `maxCoolDownMs`. */
  coolDownMs?: number;
  /** Default 5 min. */
  maxCoolDownMs?: number;
  /** How long the endpoint may keep failing before requests fail instead of waiting (default 10 min). */
  maxOpenMs?: number;
  /** Names the endpoint in the give-up message, e.g. the client's description. */
  endpoint?: string;
  onStateChange?: (event: BreakerEvent) => void;
  now?: () => number;
  sleep?: Sleep;
}

export function cancelledError(): LlmError {
  return new LlmError('cancelled', 'The LLM request was cancelled.');
}

export const sleepUnlessCancelled: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelledError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelledError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Leave to send one request. Report its outcome exactly once; the breaker needs to know which
 * outcome belongs to the half-open trial (requests sent before it opened may still be answering).
 */
export interface BreakerPermit {
  succeeded(): void;
  failed(error: unknown): void;
}

export class CircuitBreaker {
  private readonly failureThreshold: number;
  private readonly baseCoolDownMs: number;
  private readonly maxCoolDownMs: number;
  private readonly maxOpenMs: number;
  private readonly now: () => number;
  private readonly sleep: Sleep;

  private current: BreakerState = 'closed';
  private failures = 0;
  private coolDownMs = 0;
  private reopenAt = 0;
  /** When the endpoint started failing badly enough to open; the give-up limit counts from here. */
  private openSince = 0;
  private trial: BreakerPermit | undefined;
  private gaveUp = false;
  private lastFailure: LlmError | undefined;
  /** Callers waiting in half-open for the trial's outcome. */
  private parked: Array<() => void> = [];

  constructor(private readonly options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? 8;
    this.baseCoolDownMs = options.coolDownMs ?? 30_000;
    this.maxCoolDownMs = options.maxCoolDownMs ?? 5 * 60_000;
    this.maxOpenMs = options.maxOpenMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleepUnlessCancelled;
  }

  get state(): BreakerState {
    return this.current;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /**
   * Resolves when a request may be sent: at once while closed, after the cool-down while open,
   * after the trial's outcome while half-open. Rejects with 'circuit-open' once the breaker gave
   * up, and with 'cancelled' when `signal` aborts the wait.
   */
  async acquire(signal?: AbortSignal): Promise<BreakerPermit> {
    for (;;) {
      if (signal?.aborted) throw cancelledError();
      if (this.gaveUp) throw this.gaveUpError();
      if (this.current === 'closed') return this.permit();
      if (this.current === 'open') {
        const wait = this.reopenAt - this.now();
        if (wait > 0) {
          await this.sleep(wait, signal);
          continue;
        }
        this.change('half-open');
      }
      if (this.trial === undefined) {
        this.trial = this.permit();
        return this.trial;
      }
      await this.park(signal);
    }
  }

  private permit(): BreakerPermit {
    let settled = false;
    const permit: BreakerPermit = {
      succeeded: () => {
        if (settled) return;
        settled = true;
        this.onSuccess();
      },
      failed: (error) => {
        if (settled) return;
        settled = true;
        this.onFailure(permit, error);
      },
    };
    return permit;
  }

  /** Any success proves the endpoint answers again, even one sent before the breaker opened. */
  private onSuccess(): void {
    this.trial = undefined;
    this.failures = 0;
    this.coolDownMs = 0;
    this.gaveUp = false;
    this.lastFailure = undefined;
    if (this.current !== 'closed') this.change('closed');
    this.wakeParked();
  }

  /**
   * Only retryable failures say something about the endpoint's health; an auth error, a bad
   * request or a cancellation of the trial just lets the next caller try.
   */
  private onFailure(permit: BreakerPermit, error: unknown): void {
    const wasTrial = this.trial === permit;
    if (wasTrial) this.trial = undefined;
    if (error instanceof LlmError && error.retryable) {
      this.failures += 1;
      this.lastFailure = error;
      if (this.current === 'closed' && this.failures >= this.failureThreshold) {
        this.openSince = this.now();
        this.open(this.baseCoolDownMs);
      } else if (wasTrial && this.current === 'half-open') {
        if (this.now() - this.openSince >= this.maxOpenMs) this.giveUp();
        else this.open(Math.min(this.coolDownMs * 2, this.maxCoolDownMs));
      }
      // Other failures come from requests sent before the breaker opened: they change nothing.
    }
    this.wakeParked();
  }

  private open(coolDownMs: number): void {
    const now = this.now();
    this.coolDownMs = coolDownMs;
    // The last trial happens at the give-up limit rather than after it, so the limit is exact.
    this.reopenAt = Math.min(now + coolDownMs, this.openSince + this.maxOpenMs);
    this.current = 'open';
    this.options.onStateChange?.({ state: 'open', consecutiveFailures: this.failures, reopenAt: this.reopenAt, coolDownMs: this.reopenAt - now });
  }

  private giveUp(): void {
    this.gaveUp = true;
    this.current = 'open';
    this.options.onStateChange?.({ state: 'open', consecutiveFailures: this.failures, gaveUp: true });
  }

  private change(state: 'closed' | 'half-open'): void {
    this.current = state;
    this.options.onStateChange?.({ state, consecutiveFailures: this.failures });
  }

  private park(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.parked = this.parked.filter((wake) => wake !== onWake);
        reject(cancelledError());
      };
      const onWake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.parked.push(onWake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private wakeParked(): void {
    const parked = this.parked;
    this.parked = [];
    for (const wake of parked) wake();
  }

  private gaveUpError(): LlmError {
    const endpoint = this.options.endpoint ? `The LLM endpoint (${this.options.endpoint})` : 'The LLM endpoint';
    const last = this.lastFailure ? ` The last error: ${this.lastFailure.message}` : '';
    return new LlmError(
      'circuit-open',
      `${endpoint} kept failing for ${formatDuration(this.now() - this.openSince)} (${this.failures} failures in a row), so requests to it stopped.${last} ` +
        'Check that the server is running and reachable, that the model name is right and loaded, and that the account has quota left; then run again to continue.',
      { cause: this.lastFailure },
    );
  }
}

function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  return ms < 60_000 ? `${Math.round(ms / 1_000)} s` : `${Math.round(ms / 60_000)} min`;
}
