import * as net from 'node:net';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { SpecializeError } from '../../errors';
import { cancelledError } from './circuitBreaker';
import { type CompletionRequest, type CompletionResult, type LlmClient, LlmError } from './types';

/**
 * Any server that speaks OpenAI's chat-completions API: OpenAI itself, vLLM, llama.cpp's server,
 * Ollama, LM Studio, LiteLLM and other proxies. One request per call and no retries here: every
 * failure becomes an LlmError whose kind tells RetryingClient whether another attempt can help.
 */

export interface OpenAiCompatibleOptions {
  /** The API root, e.g. http://127.0.0.1:8080/v1 or https://api.openai.com/v1. */
  baseUrl: string;
  model: string;
  /** Absent for local servers that check none. */
  apiKey?: string;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Per request, from sending to the last byte of the answer (default 60 s). */
  timeoutMs?: number;
  /** Whether requests cost money; default: true unless the host is this machine or a private network. */
  paid?: boolean;
}

export class OpenAiCompatibleClient implements LlmClient {
  readonly description: string;
  readonly modelId: string;
  readonly paid: boolean;
  readonly concurrency: number;

  private readonly api: OpenAI;
  private readonly timeoutMs: number;

  constructor(private readonly options: OpenAiCompatibleOptions) {
    const url = parseBaseUrl(options.baseUrl);
    if (!options.model.trim()) {
      throw new SpecializeError('No LLM model name was given.', 'Name the model the endpoint serves, e.g. gpt-4o-mini or llama3.1:8b.');
    }
    this.concurrency = positiveInteger(options.concurrency ?? 4, 'concurrency');
    this.timeoutMs = positiveInteger(options.timeoutMs ?? 60_000, 'timeout');
    this.description = `openai-compatible ${options.baseUrl}, model ${options.model}`;
    // The model, not the URL: the same model behind another proxy or port keeps its cached queries.
    this.modelId = `openai:${options.model}`;
    this.paid = options.paid ?? !isLocalOrPrivateHost(url.hostname);
    this.api = new OpenAI({
      baseURL: options.baseUrl,
      // The SDK refuses to start without a key; servers that check none ignore the placeholder.
      apiKey: options.apiKey || 'none',
      // Explicit nulls keep OPENAI_ORG_ID / OPENAI_PROJECT_ID from leaking to a third-party endpoint.
      organization: null,
      project: null,
      maxRetries: 0,
      timeout: this.timeoutMs,
    });
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    if (request.signal?.aborted) throw cancelledError();
    // A controller per request: the SDK never removes the listener it adds to the signal it is
    // given, so handing it the run-long signal would pile up one listener per request. It also
    // carries our deadline, which unlike the SDK's timeout covers reading the body too.
    const controller = new AbortController();
    const forwardAbort = () => controller.abort();
    request.signal?.addEventListener('abort', forwardAbort, { once: true });
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    try {
      const messages: ChatCompletionMessageParam[] = request.messages.map(({ role, content }) => ({ role, content }));
      const body: unknown = await this.api.chat.completions.create(
        { model: this.options.model, messages, max_tokens: request.maxTokens, temperature: request.temperature },
        { signal: controller.signal },
      );
      return readCompletion(body, this.options.baseUrl);
    } catch (error) {
      if (request.signal?.aborted) throw cancelledError();
      if (timedOut || error instanceof APIConnectionTimeoutError) {
        throw new LlmError('timeout', `The LLM endpoint ${this.options.baseUrl} did not answer within ${this.timeoutMs / 1000} s.`, { cause: error });
      }
      throw this.describeFailure(error);
    } finally {
      clearTimeout(deadline);
      request.signal?.removeEventListener('abort', forwardAbort);
    }
  }

  async close(): Promise<void> {
    // Nothing to release: the SDK holds no connections of its own (fetch pools them).
  }

  private describeFailure(error: unknown): LlmError {
    const endpoint = this.options.baseUrl;
    if (error instanceof LlmError) return error;
    if (error instanceof APIUserAbortError) return cancelledError();
    if (error instanceof APIConnectionError) {
      return new LlmError('network', `Could not reach the LLM endpoint ${endpoint}: ${causeChain(error)}.`, { cause: error });
    }
    if (error instanceof APIError && error.status !== undefined) {
      return statusError(error, error.status, endpoint, this.options.apiKey !== undefined && this.options.apiKey !== '');
    }
    // Thrown while reading a 2xx body: JSON.parse on a malformed one, fetch on one cut short.
    if (error instanceof SyntaxError) {
      return new LlmError('bad-response', `The LLM endpoint ${endpoint} answered with unreadable JSON: ${error.message}.`, { cause: error });
    }
    return new LlmError('network', `The connection to the LLM endpoint ${endpoint} broke off: ${causeChain(error)}.`, { cause: error });
  }
}

function statusError(error: APIError, status: number, endpoint: string, hasKey: boolean): LlmError {
  const details = { status, retryAfterMs: parseRetryAfterMs(error.headers), cause: error };
  if (status === 429) return new LlmError('rate-limit', `The LLM endpoint ${endpoint} is limiting requests (${error.message}).`, details);
  if (status >= 500) return new LlmError('server', `The LLM endpoint ${endpoint} failed (${error.message}).`, details);
  if (status === 401 || status === 403) {
    const fix = hasKey
      ? 'Check the key in SPECIALIZE_LLM_API_KEY: it must be valid for this endpoint and allowed to use this model.'
      : 'No API key was set: put the endpoint\'s key in SPECIALIZE_LLM_API_KEY.';
    return new LlmError('auth', `The LLM endpoint ${endpoint} refused the request (${error.message}). ${fix}`, details);
  }
  const hint = status === 404 ? ' Check the model name, and that the URL is the API root (it often ends in /v1).' : '';
  return new LlmError('bad-request', `The LLM endpoint ${endpoint} rejected the request (${error.message}).${hint}`, details);
}

/** Accepts any JSON shape: proxies answer 2xx with an error object, an empty body or no choices. */
function readCompletion(body: unknown, endpoint: string): CompletionResult {
  const choices = isRecord(body) ? body.choices : undefined;
  if (!Array.isArray(choices) || choices.length === 0) {
    const reported = isRecord(body) && isRecord(body.error) && typeof body.error.message === 'string' ? `: ${body.error.message}` : '';
    throw new LlmError('bad-response', `The LLM endpoint ${endpoint} answered without any choices${reported}.`);
  }
  const first: unknown = choices[0];
  const message = isRecord(first) ? first.message : undefined;
  if (!isRecord(message) || typeof message.content !== 'string') {
    throw new LlmError('bad-response', `The LLM endpoint ${endpoint} answered without a text message in its first choice.`);
  }
  const usage = isRecord(body) && isRecord(body.usage) ? body.usage : {};
  return { text: message.content, promptTokens: count(usage.prompt_tokens), completionTokens: count(usage.completion_tokens) };
}

/**
 * How long the server asked us to wait: `retry-after-ms` (OpenAI's, the more precise), else
 * `Retry-After` in seconds or as an HTTP date. Undefined when absent or unreadable.
 */
export function parseRetryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  const millis = headers?.get('retry-after-ms')?.trim();
  if (millis && /^\d+(\.\d+)?$/.test(millis)) return Number(millis);
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** This machine, a private or link-local network, or a carrier-grade NAT range (Tailscale). */
export function isLocalOrPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local')) return true;
  if (net.isIPv4(host)) {
    const [a = 0, b = 0] = host.split('.').map(Number);
    return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
  }
  if (net.isIPv6(host)) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    if (mapped?.[1]) return isLocalOrPrivateHost(mapped[1]);
    return host === '::1' || /^f[cd][0-9a-f]{2}:/.test(host) || /^fe[89ab][0-9a-f]:/.test(host);
  }
  return false;
}

function parseBaseUrl(baseUrl: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(baseUrl);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new SpecializeError(`The LLM endpoint URL "${baseUrl}" is not an http(s) URL.`, 'Give the API root, e.g. http://127.0.0.1:8080/v1 or https://api.openai.com/v1.');
  }
  return url;
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new SpecializeError(`The LLM ${what} must be a whole number of at least 1, not ${value}.`, `Set the LLM ${what} to a positive whole number.`);
  }
  return value;
}

/** "fetch failed: connect ECONNREFUSED 127.0.0.1:9" rather than just "Connection error.". */
function causeChain(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error; current instanceof Error && parts.length < 4; current = current.cause) {
    const message = current.message.replace(/\.$/, '');
    if (message && !parts.includes(message)) parts.push(message);
  }
  return parts.join(': ') || String(error);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
