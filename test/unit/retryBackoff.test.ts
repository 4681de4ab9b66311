import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/core/synth/llm/circuitBreaker';
import { parseRetryAfterMs } from '../../src/core/synth/llm/openaiClient';
import { RetryingClient, type RetryOptions } from '../../src/core/synth/llm/retry';
import { type CompletionRequest, type CompletionResult, type LlmClient, LlmError, type LlmErrorKind } from '../../src/core/synth/llm/types';

type Outcome = LlmError | Error | string;

/** Answers each call with the next scripted outcome: a text, or an error to throw. */
class ScriptedClient implements LlmClient {
  readonly description = 'scripted';
  readonly modelId = 'scripted:model';
  readonly paid = false;
  calls = 0;

  constructor(
    private readonly outcomes: Outcome[],
    readonly concurrency = 4,
  ) {}

  async complete(): Promise<CompletionResult> {
    const outcome = this.outcomes[Math.min(this.calls, this.outcomes.length - 1)];
    this.calls += 1;
    if (outcome instanceof Error) throw outcome;
    return { text: outcome ?? '', promptTokens: 1, completionTokens: 1 };
  }

  async close(): Promise<void> {}
}

function retrying(inner: LlmClient, options: RetryOptions = {}) {
  const delays: number[] = [];
  const client = new RetryingClient(inner, {
    sleep: async (ms) => void delays.push(ms),
    random: () => 0.5,
    breaker: new CircuitBreaker({ failureThreshold: 1_000 }),
    ...options,
  });
  return { client, delays };
}

const request: CompletionRequest = { messages: [{ role: 'user', content: 'q' }], maxTokens: 50, temperature: 0.7 };
const error = (kind: LlmErrorKind, retryAfterMs?: number) => new LlmError(kind, `failed: ${kind}`, { retryAfterMs });

describe('RetryingClient backoff', () => {
  it('backs off exponentially with full jitter: a random share of base × factor^n, capped', async () => {
    const inner = new ScriptedClient([error('server')]);
    const { client, delays } = retrying(inner, { maxAttempts: 9, random: () => 0.999 });
    await expect(client.complete(request)).rejects.toMatchObject({ kind: 'server' });
    const ceilings = [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000];
    expect(delays).toEqual(ceilings.map((ceiling) => ceiling * 0.999));
    expect(inner.calls).toBe(9);
  });

  it('draws each delay anywhere from zero to the ceiling', async () => {
    const draws = [0, 0.25, 0.5];
    const { client, delays } = retrying(new ScriptedClient([error('timeout'), error('timeout'), error('timeout'), 'ok']), { random: () => draws.shift() ?? 0 });
    await client.complete(request);
    expect(delays).toEqual([0, 250, 1_000]);
  });

  it('takes the configured base, factor and cap', async () => {
    const { client, delays } = retrying(new ScriptedClient([error('network')]), { maxAttempts: 5, baseDelayMs: 100, factor: 3, maxDelayMs: 1_000, random: () => 1 });
    await expect(client.complete(request)).rejects.toMatchObject({ kind: 'network' });
    expect(delays).toEqual([100, 300, 900, 1_000]);
  });

  it('waits at least what the server asked for, but not a misconfigured day', async () => {
    const inner = new ScriptedClient([error('rate-limit', 5_000), error('rate-limit', 10), error('rate-limit', 86_400_000), 'ok']);
    const { client, delays } = retrying(inner, { random: () => 1 });
    expect((await client.complete(request)).text).toBe('ok');
    // 5 s over a 500 ms backoff; a 1 s backoff over a 10 ms Retry-After; a day capped at 120 s.
    expect(delays).toEqual([5_000, 1_000, 120_000]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const last = error('bad-response');
    const inner = new ScriptedClient([error('server'), error('timeout'), last]);
    const { client } = retrying(inner, { maxAttempts: 3 });
    await expect(client.complete(request)).rejects.toBe(last);
    expect(inner.calls).toBe(3);
    expect(client.stats).toEqual({ requests: 3, retries: 2, failures: { server: 1, timeout: 1, 'bad-response': 1 } });
  });

  it.each<LlmErrorKind>(['auth', 'bad-request', 'cancelled', 'circuit-open'])('never retries %s', async (kind) => {
    const inner = new ScriptedClient([error(kind), 'ok']);
    const { client, delays } = retrying(inner);
    await expect(client.complete(request)).rejects.toMatchObject({ kind });
    expect(inner.calls).toBe(1);
    expect(delays).toEqual([]);
    expect(client.stats).toEqual({ requests: 1, retries: 0, failures: { [kind]: 1 } });
  });

  it('lets a bug in the wrapped client through without retrying it', async () => {
    const inner = new ScriptedClient([new TypeError('undefined is not a function'), 'ok']);
    await expect(retrying(inner).client.complete(request)).rejects.toThrow(TypeError);
    expect(inner.calls).toBe(1);
  });

  it('counts requests, retries and failures by kind across calls', async () => {
    const inner = new ScriptedClient([error('rate-limit'), 'one', error('server'), error('server'), 'two', 'three']);
    const { client } = retrying(inner);
    for (let i = 0; i < 3; i++) await client.complete(request);
    expect(client.stats).toEqual({ requests: 6, retries: 3, failures: { 'rate-limit': 1, server: 2 } });
  });

  it('ends a backoff at once when the request is cancelled, and sends nothing more', async () => {
    const inner = new ScriptedClient([error('server'), 'ok']);
    // The real sleep, with a backoff long enough that only cancellation can end it in time.
    const client = new RetryingClient(inner, { baseDelayMs: 60_000, random: () => 1, breaker: new CircuitBreaker({ failureThreshold: 1_000 }) });
    const controller = new AbortController();
    const pending = client.complete({ ...request, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ kind: 'cancelled' });
    expect(inner.calls).toBe(1);
  });

  it('passes on the wrapped client\'s identity', () => {
    const client = new RetryingClient(new ScriptedClient(['ok'], 3));
    expect([client.description, client.modelId, client.paid, client.concurrency]).toEqual(['scripted', 'scripted:model', false, 3]);
  });
});

/** Each call waits until the test releases it, so the test sees what is in flight. */
class GatedClient implements LlmClient {
  readonly description = 'gated';
  readonly modelId = 'gated:model';
  readonly paid = false;
  readonly started: string[] = [];
  private readonly gates: Array<() => void> = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(readonly concurrency: number) {}

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    this.started.push(request.messages[0]?.content ?? '');
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise<void>((resolve) => this.gates.push(resolve));
    this.inFlight -= 1;
    return { text: 'ok', promptTokens: 0, completionTokens: 0 };
  }

  releaseOne(): void {
    this.gates.shift()?.();
  }

  async close(): Promise<void> {}
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const asking = (content: string, signal?: AbortSignal): CompletionRequest => ({ messages: [{ role: 'user', content }], maxTokens: 50, temperature: 0, signal });

describe('RetryingClient concurrency', () => {
  it('keeps at most `concurrency` requests in flight and starts the waiting ones in order', async () => {
    const inner = new GatedClient(2);
    const client = new RetryingClient(inner);
    const all = Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => client.complete(asking(name))));
    await tick();
    expect(inner.started).toEqual(['a', 'b']);
    inner.releaseOne();
    await tick();
    expect(inner.started).toEqual(['a', 'b', 'c']);
    for (let i = 0; i < 4; i++) {
      inner.releaseOne();
      await tick();
    }
    await all;
    expect(inner.started).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(inner.maxInFlight).toBe(2);
  });

  it('drops a request cancelled while it waits for a slot, without losing the slot', async () => {
    const inner = new GatedClient(1);
    const client = new RetryingClient(inner);
    const controller = new AbortController();
    const first = client.complete(asking('first'));
    const cancelled = client.complete(asking('cancelled', controller.signal));
    const third = client.complete(asking('third'));
    await tick();
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ kind: 'cancelled' });
    inner.releaseOne();
    await first;
    await tick();
    inner.releaseOne();
    await third;
    expect(inner.started).toEqual(['first', 'third']);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const headers = (values: Record<string, string>) => new Headers(values);

  it('reads seconds, fractions included', () => {
    expect(parseRetryAfterMs(headers({ 'retry-after': '2' }), now)).toBe(2_000);
    expect(parseRetryAfterMs(headers({ 'retry-after': '0.5' }), now)).toBe(500);
  });

  it('reads an HTTP date as the time left until it, never negative', () => {
    expect(parseRetryAfterMs(headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:07 GMT' }), now)).toBe(7_000);
    expect(parseRetryAfterMs(headers({ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }), now)).toBe(0);
  });

  it('prefers retry-after-ms, and ignores what it cannot read', () => {
    expect(parseRetryAfterMs(headers({ 'retry-after-ms': '250', 'retry-after': '3' }), now)).toBe(250);
    expect(parseRetryAfterMs(headers({ 'retry-after-ms': 'soon', 'retry-after': '3' }), now)).toBe(3_000);
    expect(parseRetryAfterMs(headers({ 'retry-after': 'later' }), now)).toBeUndefined();
    expect(parseRetryAfterMs(headers({}), now)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
  });
});

