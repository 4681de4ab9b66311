import { describe, expect, it } from 'vitest';
import { type BreakerEvent, CircuitBreaker, type CircuitBreakerOptions, cancelledError } from '../../src/core/synth/llm/circuitBreaker';
import { LlmError } from '../../src/core/synth/llm/types';

/** A clock that only moves when the breaker sleeps; concurrent sleepers end at the same instant. */
function fakeClock() {
  const clock = {
    time: 0,
    slept: [] as number[],
    now: () => clock.time,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw cancelledError();
      clock.slept.push(ms);
      const until = clock.time + ms;
      await Promise.resolve();
      if (signal?.aborted) throw cancelledError();
      clock.time = Math.max(clock.time, until);
    },
  };
  return clock;
}

function setup(options: CircuitBreakerOptions = {}) {
  const clock = fakeClock();
  const events: BreakerEvent[] = [];
  const breaker = new CircuitBreaker({ now: clock.now, sleep: clock.sleep, onStateChange: (event) => events.push(event), ...options });
  return { clock, events, breaker };
}

const serverError = () => new LlmError('server', 'The LLM endpoint failed (500 Internal Server Error).', { status: 500 });

async function failTimes(breaker: CircuitBreaker, times: number, error: () => unknown = serverError): Promise<void> {
  for (let i = 0; i < times; i++) (await breaker.acquire()).failed(error());
}

/** Settles pending microtasks so parked callers can react. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('CircuitBreaker', () => {
  it('stays closed below the threshold, and a success starts the count again', async () => {
    const { breaker, events } = setup({ failureThreshold: 3 });
    await failTimes(breaker, 2);
    (await breaker.acquire()).succeeded();
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(2);
    expect(events).toEqual([]);
  });

  it('counts only retryable failures: auth, bad requests and cancellations say nothing about the endpoint\'s health', async () => {
    const { breaker } = setup({ failureThreshold: 2 });
    await failTimes(breaker, 1);
    await failTimes(breaker, 1, () => new LlmError('auth', 'refused'));
    await failTimes(breaker, 1, () => new LlmError('bad-request', 'too long'));
    await failTimes(breaker, 1, () => cancelledError());
    await failTimes(breaker, 1, () => new Error('a bug'));
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(1);
  });

  it('opens after K consecutive failures, pauses callers for the cool-down, then lets a trial through that closes it', async () => {
    const { breaker, clock, events } = setup();
    await failTimes(breaker, 8);
    expect(breaker.state).toBe('open');
    expect(events).toEqual([{ state: 'open', consecutiveFailures: 8, reopenAt: 30_000, coolDownMs: 30_000 }]);

    const trial = await breaker.acquire();
    expect(clock.slept).toEqual([30_000]);
    expect(breaker.state).toBe('half-open');
    trial.succeeded();
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(0);
    expect(events.map((event) => event.state)).toEqual(['open', 'half-open', 'closed']);
  });

  it('doubles the cool-down on every failed trial, up to the cap', async () => {
    const { breaker, events } = setup({ failureThreshold: 1, maxOpenMs: 60 * 60_000 });
    await failTimes(breaker, 1);
    for (let i = 0; i < 5; i++) (await breaker.acquire()).failed(serverError());
    expect(events.filter((event) => event.state === 'open').map((event) => event.coolDownMs)).toEqual([30_000, 60_000, 120_000, 240_000, 300_000, 300_000]);
  });

  it('a success after re-opens starts again from the first cool-down', async () => {
    const { breaker, events } = setup({ failureThreshold: 1 });
    await failTimes(breaker, 1);
    (await breaker.acquire()).failed(serverError());
    (await breaker.acquire()).succeeded();
    await failTimes(breaker, 1);
    expect(events.filter((event) => event.state === 'open').map((event) => event.coolDownMs)).toEqual([30_000, 60_000, 30_000]);
  });

  it('lets one trial through while half-open; the others wait for its outcome', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, coolDownMs: 1_000 });
    await failTimes(breaker, 1);
    const first = breaker.acquire();
    const second = breaker.acquire();
    const trial = await first;
    let secondGotThrough = false;
    void second.then(() => (secondGotThrough = true));
    await flush();
    expect(secondGotThrough).toBe(false);

    // The trial fails: the waiting caller pauses for the doubled cool-down and becomes the next trial.
    trial.failed(serverError());
    const nextTrial = await second;
    expect(clock.time).toBe(3_000);
    expect(breaker.state).toBe('half-open');
    nextTrial.succeeded();
    expect(breaker.state).toBe('closed');
  });

  it('wakes the waiting callers as soon as the trial succeeds', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, coolDownMs: 1_000 });
    await failTimes(breaker, 1);
    const trial = await breaker.acquire();
    const waiting = breaker.acquire();
    await flush();
    trial.succeeded();
    await waiting;
    expect(clock.time).toBe(1_000);
    expect(breaker.state).toBe('closed');
  });

  it('a trial that is cancelled or rejected as a bad request lets the next caller try at once', async () => {
    const { breaker, clock } = setup({ failureThreshold: 1, coolDownMs: 1_000 });
    await failTimes(breaker, 1);
    const trial = await breaker.acquire();
    const waiting = breaker.acquire();
    await flush();
    trial.failed(cancelledError());
    const next = await waiting;
    expect(clock.time).toBe(1_000);
    expect(breaker.state).toBe('half-open');
    next.failed(new LlmError('bad-request', 'context too long'));
    (await breaker.acquire()).succeeded();
    expect(breaker.state).toBe('closed');
  });

  it('ignores failures of requests sent before it opened, but closes on their success', async () => {
    const { breaker, events } = setup({ failureThreshold: 2 });
    const stale = await Promise.all([breaker.acquire(), breaker.acquire(), breaker.acquire(), breaker.acquire()]);
    stale[0]?.failed(serverError());
    stale[1]?.failed(serverError());
    stale[2]?.failed(serverError());
    expect(events.map((event) => event.state)).toEqual(['open']);
    stale[3]?.succeeded();
    expect(breaker.state).toBe('closed');
  });

  it('reports each outcome once: a second report of the same permit changes nothing', async () => {
    const { breaker } = setup({ failureThreshold: 2 });
    const permit = await breaker.acquire();
    permit.failed(serverError());
    permit.failed(serverError());
    expect(breaker.consecutiveFailures).toBe(1);
  });

  it('gives up once the endpoint has failed for longer than the limit, after a last trial at the limit', async () => {
    const { breaker, clock, events } = setup({ failureThreshold: 1, coolDownMs: 60_000, maxOpenMs: 10 * 60_000, endpoint: 'openai-compatible http://gpu-box:8000/v1, model qwen' });
    await failTimes(breaker, 1);
    // Trials at 1, 3, 7 min; the next would be 15 min, so the last one comes at the 10 min limit.
    for (let i = 0; i < 4; i++) (await breaker.acquire()).failed(serverError());
    expect(clock.slept).toEqual([60_000, 120_000, 240_000, 180_000]);
    expect(events.at(-1)).toEqual({ state: 'open', consecutiveFailures: 5, gaveUp: true });

    const error = await breaker.acquire().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(LlmError);
    const llmError = error as LlmError;
    expect(llmError.kind).toBe('circuit-open');
    expect(llmError.retryable).toBe(false);
    expect(llmError.message).toContain('openai-compatible http://gpu-box:8000/v1, model qwen');
    expect(llmError.message).toContain('kept failing for 10 min');
    expect(llmError.message).toContain('500 Internal Server Error');
    expect(llmError.message).toContain('Check that the server is running');
    // Giving up is immediate from then on: no caller sits through another pause.
    await expect(breaker.acquire()).rejects.toMatchObject({ kind: 'circuit-open' });
    expect(clock.slept).toHaveLength(4);
  });

  it('stops waiting when the caller cancels, during the pause and while waiting for a trial', async () => {
    const { breaker } = setup({ failureThreshold: 1, sleep: (ms, signal) => realisticSleep(ms, signal) });
    await failTimes(breaker, 1);
    const pausing = new AbortController();
    const paused = breaker.acquire(pausing.signal);
    pausing.abort();
    await expect(paused).rejects.toMatchObject({ kind: 'cancelled' });

    const fast = setup({ failureThreshold: 1, coolDownMs: 10 });
    await failTimes(fast.breaker, 1);
    const trial = await fast.breaker.acquire();
    const parking = new AbortController();
    const parked = fast.breaker.acquire(parking.signal);
    await flush();
    parking.abort();
    await expect(parked).rejects.toMatchObject({ kind: 'cancelled' });
    // The cancelled caller is gone: the trial's outcome wakes nobody and no permit leaks.
    trial.succeeded();
    expect(fast.breaker.state).toBe('closed');
  });
});

/** A sleep that only the signal ends, as the real one does during a long pause. */
function realisticSleep(_ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((_resolve, reject) => {
    signal?.addEventListener('abort', () => reject(cancelledError()), { once: true });
  });
}
