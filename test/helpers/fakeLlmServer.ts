import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real OpenAI-compatible HTTP server on 127.0.0.1 whose answers are scripted, to test clients
 * against the faults real endpoints produce: rate limits, 5xx bursts, hangs, bodies cut short.
 *
 *   const server = await startFakeLlmServer();
 *   server.script({ status: 429, retryAfter: '1' }, 500, 'hang', 'ok');
 *   const client = new OpenAiCompatibleClient({ baseUrl: server.url, model: 'fake' });
 *   ...
 *   expect(server.requests).toHaveLength(4);
 *   await server.close();
 *
 * Each POST /v1/chat/completions takes the next scripted reply; when the script is used up, the
 * `fallback` option answers (by default 'ok'). Every request is recorded in `requests`.
 */

/**
 * - 'ok': 200 with a deterministic answer, `Query about <first 5 words of the last user message>`
 * - a status number (429, 500, 503, 401, 400, …): that status with an OpenAI-style error body
 * - 'hang': never answers; the socket stays open until the client gives up or `close()`
 * - 'truncated': 200 headers and half the JSON body, then the socket is destroyed
 * - 'stall': 200 headers and half the JSON body, then nothing more until `close()`
 * - 'empty': 200 with a JSON content type and no body
 * - 'malformed': 200 with a body that is not valid JSON
 * - 'no-choices': 200 with valid JSON whose `choices` is empty
 * - an object: a status (default 200) with optional content, Retry-After headers, error message
 *   and a delay before answering
 */
export type FakeReply = 'ok' | 'hang' | 'truncated' | 'stall' | 'empty' | 'malformed' | 'no-choices' | number | FakeReplySpec;

export interface FakeReplySpec {
  /** Default 200. */
  status?: number;
  /** The answer's text for a 200 (default: the deterministic answer). */
  content?: string;
  /** Sent as the Retry-After header, e.g. '1' or an HTTP date. */
  retryAfter?: string;
  /** Sent as the retry-after-ms header. */
  retryAfterMs?: number;
  /** The error message of a non-2xx reply. */
  message?: string;
  /** Wait this long before answering. */
  delayMs?: number;
}

export interface ReceivedRequest {
  /** 0-based, in arrival order. */
  index: number;
  /** Epoch ms when the request arrived (its body fully read). */
  receivedAt: number;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: { model?: string; messages?: Array<{ role: string; content: string }>; max_tokens?: number; temperature?: number } | undefined;
  /** The content of the last user message: tells duplicated requests apart. */
  prompt: string;
  /** The Authorization header as sent ('' when none). */
  authorization: string;
  /** The reply the script chose for it. */
  reply: FakeReply;
}

export interface FakeLlmServerOptions {
  /** Answers requests the script does not cover (default: always 'ok'). */
  fallback?: FakeReply | ((request: ReceivedRequest) => FakeReply);
}

export interface FakeLlmServer {
  /** Base URL for clients, ending in /v1. */
  url: string;
  /** Every chat-completions request received so far, in arrival order. */
  requests: ReceivedRequest[];
  /** The most requests the server was answering at once. */
  readonly maxInFlight: number;
  /** Appends replies, used one per request in order. */
  script(...replies: FakeReply[]): void;
  /** Stops the server and destroys every open socket, hanging requests included. */
  close(): Promise<void>;
}

/** The answer an 'ok' reply gives: derived from the prompt so tests can predict it. */
export function defaultAnswer(prompt: string): string {
  return `Query about ${prompt.split(/\s+/).filter(Boolean).slice(0, 5).join(' ')}`;
}

export async function startFakeLlmServer(options: FakeLlmServerOptions = {}): Promise<FakeLlmServer> {
  const queue: FakeReply[] = [];
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  let maxInFlight = 0;

  const nextReply = (request: ReceivedRequest): FakeReply => {
    const scripted = queue.shift();
    if (scripted !== undefined) return scripted;
    const { fallback = 'ok' } = options;
    return typeof fallback === 'function' ? fallback(request) : fallback;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        sendJson(res, 404, { error: { message: `No route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
        return;
      }
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // 'close' fires once per response: answered, destroyed, or abandoned by the client.
      res.on('close', () => (inFlight -= 1));
      const body = parseJson(Buffer.concat(chunks).toString('utf8'));
      const record: ReceivedRequest = {
        index: requests.length,
        receivedAt: Date.now(),
        body,
        prompt: lastUserMessage(body),
        authorization: req.headers.authorization ?? '',
        reply: 'ok',
      };
      record.reply = nextReply(record);
      requests.push(record);
      const spec = toSpec(record.reply);
      const answer = () => respond(res, record, spec);
      if (spec.delayMs) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          answer();
        }, spec.delayMs);
        timers.add(timer);
      } else {
        answer();
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    script: (...replies) => void queue.push(...replies),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

type Behaviour = 'hang' | 'truncated' | 'stall' | 'empty' | 'malformed' | 'no-choices' | 'answer';

function toSpec(reply: FakeReply): FakeReplySpec & { behaviour: Behaviour } {
  if (typeof reply === 'number') return { status: reply, behaviour: 'answer' };
  if (typeof reply === 'object') return { ...reply, behaviour: 'answer' };
  return { behaviour: reply === 'ok' ? 'answer' : reply };
}

function respond(res: http.ServerResponse, request: ReceivedRequest, spec: FakeReplySpec & { behaviour: Behaviour }): void {
  switch (spec.behaviour) {
    case 'hang':
      return;
    case 'empty':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '0' });
      res.end();
      return;
    case 'malformed':
      sendText(res, 200, 'application/json', '{"id": "chatcmpl-fake", "choices": [{"message": {"content": "Query ab');
      return;
    case 'no-choices':
      sendJson(res, 200, { ...completion(request, ''), choices: [] });
      return;
    case 'truncated':
    case 'stall': {
      const text = JSON.stringify(completion(request, defaultAnswer(request.prompt)));
      // The promised length makes the client notice the missing half when the socket dies.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
      res.write(text.slice(0, Math.floor(text.length / 2)), () => {
        if (spec.behaviour === 'truncated') res.socket?.destroy();
      });
      return;
    }
    case 'answer':
      break;
  }
  const status = spec.status ?? 200;
  if (status >= 200 && status < 300) {
    sendJson(res, status, completion(request, spec.content ?? defaultAnswer(request.prompt)));
    return;
  }
  const headers: Record<string, string> = {};
  if (spec.retryAfter !== undefined) headers['retry-after'] = spec.retryAfter;
  if (spec.retryAfterMs !== undefined) headers['retry-after-ms'] = String(spec.retryAfterMs);
  const message = spec.message ?? http.STATUS_CODES[status] ?? 'error';
  sendJson(res, status, { error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'fake_error', code: null } }, headers);
}

function completion(request: ReceivedRequest, content: string) {
  const completionTokens = content.split(/\s+/).filter(Boolean).length;
  const promptTokens = (request.body?.messages ?? []).reduce((sum, message) => sum + message.content.split(/\s+/).filter(Boolean).length, 0);
  return {
    id: `chatcmpl-fake-${request.index}`,
    object: 'chat.completion',
    created: Math.floor(request.receivedAt / 1000),
    model: request.body?.model ?? 'fake',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

function sendJson(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, 'application/json', JSON.stringify(value), headers);
}

function sendText(res: http.ServerResponse, status: number, contentType: string, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function parseJson(text: string): ReceivedRequest['body'] {
  try {
    return JSON.parse(text) as ReceivedRequest['body'];
  } catch {
    return undefined;
  }
}

function lastUserMessage(body: ReceivedRequest['body']): string {
  const users = (body?.messages ?? []).filter((message) => message.role === 'user');
  return users.at(-1)?.content ?? '';
}
