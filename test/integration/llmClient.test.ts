import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BreakerEvent, CircuitBreaker, type CircuitBreakerOptions } from '../../src/core/synth/llm/circuitBreaker';
import { OpenAiCompatibleClient, type OpenAiCompatibleOptions } from '../../src/core/synth/llm/openaiClient';
import { RetryingClient, type RetryOptions } from '../../src/core/synth/llm/retry';
import { type CompletionRequest, LlmError, type LlmErrorKind } from '../../src/core/synth/llm/types';
import { type FakeLlmServer, type FakeReply, defaultAnswer, startFakeLlmServer } from '../helpers/fakeLlmServer';

/**
 * The OpenAI-compatible client with retries and the circuit breaker, against a real HTTP server
 * that injects faults. Every test checks exactly how many requests reached the server.
 */

let server: FakeLlmServer;

beforeEach(async () => {
  server = await startFakeLlmServer();
});

afterEach(async () => {
  await server.close();
});

interface Setup {
  client?: Partial<OpenAiCompatibleOptions>;
  retry?: RetryOptions;
  breaker?: CircuitBreakerOptions;
}

/** Short backoff so tests are quick; a breaker that stays out of the way unless a test sets it. */
function connect({ client, retry, breaker }: Setup = {}): RetryingClient {
  const inner = new OpenAiCompatibleClient({ baseUrl: server.url, model: 'fake-model', timeoutMs: 5_000, ...client });
  return new RetryingClient(inner, { baseDelayMs: 10, maxDelayMs: 40, breaker: new CircuitBreaker({ failureThreshold: 1_000, ...breaker }), ...retry });
}

function ask(prompt: string, signal?: AbortSignal): CompletionRequest {
  return { messages: [{ role: 'system', content: 'Write a search query.' }, { role: 'user', content: prompt }], maxTokens: 50, temperature: 0.7, signal };
}

async function failure(promise: Promise<unknown>): Promise<LlmError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof LlmError)) throw new Error(`expected an LlmError, got ${String(error)}`);
  return error;
}

function gaps(): number[] {
  return server.requests.slice(1).map((request, i) => request.receivedAt - (server.requests[i]?.receivedAt ?? 0));
}

// Date.now() and libuv's timer clock both count whole milliseconds: a timer of N ms can show as N - 1.
const CLOCK_SLACK_MS = 2;

// A broken timeout or cancellation shows up as a hang: fail fast instead of at the global limit.
describe('OpenAiCompatibleClient through RetryingClient, against a fault-injecting server', { timeout: 10_000 }, () => {
  it('sends the request as the chat-completions API expects and reads the answer and usage', async () => {
    const llm = connect();
    const result = await llm.complete(ask('how does the index handle deleted files in watch mode'));
    expect(result).toEqual({ text: 'Query about how does the index handle', promptTokens: 14, completionTokens: 7 });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request?.body).toMatchObject({ model: 'fake-model', max_tokens: 50, temperature: 0.7 });
    expect(request?.body?.messages?.map((message) => message.role)).toEqual(['system', 'user']);
    // Without a key, a placeholder keeps the SDK working against servers that check none.
    expect(request?.authorization).toBe('Bearer none');
  });

  it('sends the API key when one is given', async () => {
    await connect({ client: { apiKey: 'sk-test-123' } }).complete(ask('a question'));
    expect(server.requests.map((request) => request.authorization)).toEqual(['Bearer sk-test-123']);
  });

  it('waits at least the Retry-After seconds of a 429 before retrying', async () => {
    server.script({ status: 429, retryAfter: '1' });
    const llm = connect();
    const result = await llm.complete(ask('rate limited question'));
    expect(result.text).toBe(defaultAnswer('rate limited question'));
    expect(server.requests).toHaveLength(2);
    // The backoff alone is at most 10 ms here: only Retry-After explains a one-second gap.
    expect(gaps()[0]).toBeGreaterThanOrEqual(1_000 - CLOCK_SLACK_MS);
    expect(llm.stats).toEqual({ requests: 2, retries: 1, failures: { 'rate-limit': 1 } });
  });

  it('prefers retry-after-ms, the more precise header', async () => {
    server.script({ status: 429, retryAfter: '30', retryAfterMs: 300 });
    await connect().complete(ask('question'));
    expect(server.requests).toHaveLength(2);
    expect(gaps()[0]).toBeGreaterThanOrEqual(300 - CLOCK_SLACK_MS);
    expect(gaps()[0]).toBeLessThan(5_000);
  });

  it('retries a 500 and sends the same request again', async () => {
    server.script(500);
    const llm = connect();
    expect((await llm.complete(ask('first question'))).text).toBe(defaultAnswer('first question'));
    expect(server.requests.map((request) => request.prompt)).toEqual(['first question', 'first question']);
    expect(llm.stats).toEqual({ requests: 2, retries: 1, failures: { server: 1 } });
  });

  it('rides out a 503 burst longer than the breaker threshold: it pauses, doubles the pause, then closes', async () => {
    server.script(503, 503, 503, 503);
    const events: BreakerEvent[] = [];
    const llm = connect({ breaker: { failureThreshold: 3, coolDownMs: 150, onStateChange: (event) => events.push(event) } });
    expect((await llm.complete(ask('burst'))).text).toBe(defaultAnswer('burst'));
    expect(server.requests).toHaveLength(5);
    expect(events.map((event) => event.state)).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
    expect(events.filter((event) => event.state === 'open').map((event) => event.coolDownMs)).toEqual([150, 300]);
    const [, , third = 0, fourth = 0] = gaps();
    expect(third).toBeGreaterThanOrEqual(150 - CLOCK_SLACK_MS);
    expect(fourth).toBeGreaterThanOrEqual(300 - CLOCK_SLACK_MS);
  });

  it('times out a request that hangs, then retries it', async () => {
    server.script('hang');
    const llm = connect({ client: { timeoutMs: 300 } });
    const started = Date.now();
    expect((await llm.complete(ask('slow question'))).text).toBe(defaultAnswer('slow question'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(300 - CLOCK_SLACK_MS);
    expect(server.requests).toHaveLength(2);
    expect(llm.stats.failures).toEqual({ timeout: 1 });
  });

  it('times out a body that stalls after the headers (the SDK\'s own timeout stops at the headers)', async () => {
    server.script('stall');
    const llm = connect({ client: { timeoutMs: 300 } });
    expect((await llm.complete(ask('question'))).text).toBe(defaultAnswer('question'));
    expect(server.requests).toHaveLength(2);
    expect(llm.stats.failures).toEqual({ timeout: 1 });
  });

  it.each<[FakeReply, LlmErrorKind]>([
    ['truncated', 'network'],
    ['empty', 'bad-response'],
    ['malformed', 'bad-response'],
    ['no-choices', 'bad-response'],
  ])('recovers from a %s body, a retryable %s failure', async (reply, kind) => {
    server.script(reply);
    const llm = connect();
    expect((await llm.complete(ask('question'))).text).toBe(defaultAnswer('question'));
    expect(server.requests).toHaveLength(2);
    expect(llm.stats.failures).toEqual({ [kind]: 1 });
  });

  it('accepts an empty answer as a completion: judging it is the parser\'s job', async () => {
    server.script({ content: '' });
    expect((await connect().complete(ask('question'))).text).toBe('');
    expect(server.requests).toHaveLength(1);
  });

  it('does not retry a 401 and says which key to check', async () => {
    server.script({ status: 401, message: 'Incorrect API key provided' });
    const error = await failure(connect().complete(ask('question')));
    expect(error.kind).toBe('auth');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('SPECIALIZE_LLM_API_KEY');
    expect(server.requests).toHaveLength(1);
  });

  it('does not retry a 400 and passes on the server\'s reason', async () => {
    server.script({ status: 400, message: "This model's maximum context length is 4096 tokens" });
    const error = await failure(connect().complete(ask('question')));
    expect(error.kind).toBe('bad-request');
    expect(error.status).toBe(400);
    expect(error.message).toContain('maximum context length is 4096 tokens');
    expect(server.requests).toHaveLength(1);
  });

  it('gives up after the last attempt with the last error', async () => {
    server.script(500, 502, 503, 'ok');
    const llm = connect({ retry: { maxAttempts: 3 } });
    const error = await failure(llm.complete(ask('question')));
    expect(error.kind).toBe('server');
    expect(error.status).toBe(503);
    expect(server.requests).toHaveLength(3);
    expect(llm.stats).toEqual({ requests: 3, retries: 2, failures: { server: 3 } });
  });

  it('cancels a hanging request at once and sends nothing more', async () => {
    server.script('hang');
    const llm = connect({ client: { timeoutMs: 2_000 } });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(llm.complete(ask('question', controller.signal)));
    expect(error.kind).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(1_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.requests).toHaveLength(1);
    expect(llm.stats.failures).toEqual({ cancelled: 1 });
  });

  it('cancels during the backoff before a retry', async () => {
    server.script(500);
    const llm = connect({ retry: { baseDelayMs: 10_000, maxDelayMs: 10_000, random: () => 1 } });
    const controller = new AbortController();
    const pending = failure(llm.complete(ask('question', controller.signal)));
    await waitFor(() => server.requests.length === 1);
    const started = Date.now();
    controller.abort();
    expect((await pending).kind).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(500);
    expect(server.requests).toHaveLength(1);
  });

  it('keeps at most `concurrency` requests in flight, and sends each request once', async () => {
    await server.close();
    server = await startFakeLlmServer({ fallback: { delayMs: 100 } });
    const llm = connect({ client: { concurrency: 2 } });
    const prompts = ['one', 'two', 'three', 'four', 'five', 'six'].map((word) => `question ${word}`);
    const results = await Promise.all(prompts.map((prompt) => llm.complete(ask(prompt))));
    expect(results.map((result) => result.text)).toEqual(prompts.map(defaultAnswer));
    expect(server.maxInFlight).toBe(2);
    expect(server.requests.map((request) => request.prompt).sort()).toEqual([...prompts].sort());
  });

  it('opens the breaker after consecutive failures across requests, and a success closes it', async () => {
    // The trial answers slowly, so callers let through beside it would show up before its answer.
    server.script(500, 500, 500, { delayMs: 150 });
    const events: BreakerEvent[] = [];
    const breaker = new CircuitBreaker({ failureThreshold: 3, coolDownMs: 200, onStateChange: (event) => events.push(event) });
    // Retries wait a fixed 100 ms, so all three failures are in before any retry goes out.
    const llm = connect({ client: { concurrency: 3 }, retry: { breaker, baseDelayMs: 100, maxDelayMs: 100, random: () => 1 } });
    const results = await Promise.all(['a', 'b', 'c'].map((prompt) => llm.complete(ask(prompt))));
    expect(results.map((result) => result.text)).toEqual(['a', 'b', 'c'].map(defaultAnswer));
    // Three failures, one trial after the pause, then the two callers that waited for its outcome.
    expect(server.requests).toHaveLength(6);
    expect(events.map((event) => event.state)).toEqual(['open', 'half-open', 'closed']);
    expect(breaker.state).toBe('closed');
    const [, , lastFailure = 0, trial = 0, ...afterTrial] = server.requests.map((request) => request.receivedAt);
    expect(trial - lastFailure).toBeGreaterThanOrEqual(200 - CLOCK_SLACK_MS);
    for (const time of afterTrial) expect(time - trial).toBeGreaterThanOrEqual(150 - CLOCK_SLACK_MS);
  });

  it('fails with circuit-open once the endpoint has failed for longer than the limit', async () => {
    await server.close();
    server = await startFakeLlmServer({ fallback: 500 });
    const events: BreakerEvent[] = [];
    const llm = connect({ retry: { maxAttempts: 100 }, breaker: { failureThreshold: 2, coolDownMs: 100, maxOpenMs: 250, onStateChange: (event) => events.push(event) } });
    const error = await failure(llm.complete(ask('question')));
    expect(error.kind).toBe('circuit-open');
    expect(error.message).toContain('kept failing');
    expect(error.message).toContain(server.url);
    // Two failures open it; a trial after 100 ms; the last trial at the 250 ms limit.
    expect(server.requests).toHaveLength(4);
    expect(events.map((event) => event.state)).toEqual(['open', 'half-open', 'open', 'half-open', 'open']);
    expect(events.at(-1)?.gaveUp).toBe(true);
  });

  it('reports an unreachable endpoint as a retryable network error', async () => {
    const url = server.url;
    await server.close();
    const inner = new OpenAiCompatibleClient({ baseUrl: url, model: 'fake-model' });
    const llm = new RetryingClient(inner, { maxAttempts: 2, baseDelayMs: 1 });
    const error = await failure(llm.complete(ask('question')));
    expect(error.kind).toBe('network');
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(llm.stats).toEqual({ requests: 2, retries: 1, failures: { network: 2 } });
  });
});

describe('OpenAiCompatibleClient identity', () => {
  it('names the model, not the URL, in cache keys', () => {
    const a = new OpenAiCompatibleClient({ baseUrl: 'http://127.0.0.1:8080/v1', model: 'llama3.1:8b' });
    const b = new OpenAiCompatibleClient({ baseUrl: 'https://proxy.example.com/v1', model: 'llama3.1:8b' });
    expect(a.modelId).toBe('openai:llama3.1:8b');
    expect(b.modelId).toBe(a.modelId);
    expect(a.description).toBe('openai-compatible http://127.0.0.1:8080/v1, model llama3.1:8b');
    expect(a.concurrency).toBe(4);
  });

  it.each([
    ['http://localhost:11434/v1', false],
    ['http://127.0.0.1:8080/v1', false],
    ['http://[::1]:8080/v1', false],
    ['http://192.168.1.20:8000/v1', false],
    ['http://10.0.0.5/v1', false],
    ['http://172.20.1.1/v1', false],
    ['http://[fd12:3456::1]/v1', false],
    ['http://172.32.0.1/v1', true],
    ['https://api.openai.com/v1', true],
    ['https://openrouter.ai/api/v1', true],
  ])('%s is paid: %s', (baseUrl, paid) => {
    expect(new OpenAiCompatibleClient({ baseUrl, model: 'm' }).paid).toBe(paid);
  });

  it('lets the caller say whether requests cost money', () => {
    expect(new OpenAiCompatibleClient({ baseUrl: 'http://127.0.0.1:8080/v1', model: 'm', paid: true }).paid).toBe(true);
  });

  it('rejects a URL that is not http(s) with a fix', () => {
    expect(() => new OpenAiCompatibleClient({ baseUrl: 'localhost:8080', model: 'm' })).toThrow(/not an http\(s\) URL/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
