import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/core/store/store';
import { runCli, type CliResult } from '../helpers/cli';
import { cliPath, repoRoot, tempDir } from '../helpers/env';
import { startFakeLlmServer, type FakeLlmServer, type ReceivedRequest } from '../helpers/fakeLlmServer';
import { testHome } from '../helpers/models';

/**
 * `specialize synth` end to end: the built CLI, a real index with the default model, and a real
 * local OpenAI-compatible server that answers like an LLM and injects the faults real endpoints
 * produce. The server answers with five words from the passage, which the student finds again,
 * so the round-trip filter keeps most of them.
 */

const TOPICS = [
  ['Scheduler', 'The scheduler retries a failed job three times with exponential backoff, then parks it in the dead-letter queue for an operator.'],
  ['Tokens', 'Access tokens expire after fifteen minutes; the client refreshes them with the refresh token stored in the keychain.'],
  ['Glaciers', 'Glaciers advance when winter snowfall exceeds summer melt, and compressed snow becomes firn and then ice.'],
  ['Backups', 'Nightly backups are encrypted with age and uploaded to object storage; restores are tested every Sunday.'],
  ['Photosynthesis', 'Plants split water in the light reactions and fix carbon dioxide into sugar in the Calvin cycle.'],
  ['Caching', 'The HTTP cache honours ETag and Cache-Control headers and revalidates stale entries in the background.'],
  ['Migrations', 'Database migrations run in a transaction; a failed migration rolls back and leaves the schema untouched.'],
  ['Volcanoes', 'Shield volcanoes build gentle slopes from fluid basalt lava that flows far before it cools.'],
  ['Logging', 'Structured logs are written as JSON lines with a trace id so that requests can be followed across services.'],
  ['Tides', 'Spring tides happen when the sun and moon align, giving the largest difference between high and low water.'],
  ['Payments', 'Card payments are captured only after the order ships; authorisations expire after seven days.'],
  ['Rivers', 'Meandering rivers erode the outer bank of each bend and deposit sediment on the inner bank.'],
] as const;

let storeDir = '';
let server: FakeLlmServer | undefined;

beforeAll(() => {
  const folder = tempDir('synth-ws-');
  for (const [index, [title, text]] of TOPICS.entries()) {
    const body = [`# ${title}`, '', text, '', '## Details', '', `${text} This section explains ${title.toLowerCase()} in more depth for case ${index}.`].join('\n');
    fs.writeFileSync(path.join(folder, `${title.toLowerCase()}.md`), `${body}\n`);
  }
  storeDir = path.join(tempDir('synth-store-'), 'index');
  const indexed = runCli(['index', folder, '--store', storeDir]);
  expect(indexed.code, indexed.stderr).toBe(0);
}, 120_000);

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Five words of the passage, lower-cased: a query the student finds again. */
function answerFromPassage(request: ReceivedRequest): { content: string; delayMs?: number } {
  const words = request.prompt.replace(/^Passage:\s*/, '').match(/[A-Za-z]+/g) ?? ['nothing'];
  const type = request.body?.messages?.[0]?.content ?? '';
  // Vary the answer by type so answers to one passage differ, as a real model's would.
  const offset = type.length % 3;
  return { content: words.slice(offset, offset + 5).join(' ').toLowerCase() };
}

/** The request's identity: the same job always sends the same messages. */
function identity(request: ReceivedRequest): string {
  return JSON.stringify(request.body?.messages ?? []);
}

/** Runs the CLI without blocking this process, which serves the fake endpoint. */
function runCliAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: repoRoot, env: { ...process.env, SPECIALIZE_HOME: testHome, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function readJsonl(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

interface Summary {
  generated: number;
  kept: number;
  heldOutQueries: number;
  dropped: Record<string, number>;
  requests: number;
  retries: number;
  failed: number;
  cached: number;
  tokens: { prompt: number; completion: number };
  seconds: number;
  passages: { sampled: number; heldOut: number };
}

const synthArgs = (out: string, url: string, extra: string[] = []) => ['synth', '--store', storeDir, '--out', out, '--llm', url, '--model', 'fake-model', '--hold-out', '4', '--json', ...extra];

describe('specialize synth', () => {
  it('writes kept queries, dropped ones with reasons and a summary, and a rerun asks nothing again', async () => {
    server = await startFakeLlmServer({ fallback: answerFromPassage });
    const out = path.join(tempDir('synth-out-'), 'run');
    const first = await runCliAsync(synthArgs(out, server.url), { SPECIALIZE_LLM_API_KEY: 'sk-test-key' });
    expect(first.code, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout) as Summary;

    expect(server.requests.length).toBe(summary.requests);
    expect(server.requests.every((request) => request.authorization === 'Bearer sk-test-key')).toBe(true);
    expect(server.requests.every((request) => request.body?.max_tokens === 50 && request.body.temperature === 0.8)).toBe(true);
    expect(new Set(server.requests.map(identity)).size).toBe(server.requests.length);
    // Prose passages get the paper's six types; the technical ones (here: `ETag`, `Cache-Control`…) more.
    expect(summary.requests).toBeGreaterThanOrEqual(summary.passages.sampled * 6);
    expect(summary.retries).toBe(0);
    expect(summary.tokens.prompt).toBeGreaterThan(0);
    expect(summary.tokens.completion).toBeGreaterThan(0);

    const queries = readJsonl(path.join(out, 'queries.jsonl'));
    const dropped = readJsonl(path.join(out, 'dropped.jsonl'));
    expect(queries).toHaveLength(summary.kept);
    expect(summary.generated).toBe(summary.requests);
    expect(summary.kept + (summary.dropped['not-in-student-top-k'] ?? 0)).toBe(summary.generated);
    expect(summary.kept).toBeGreaterThan(summary.generated / 2);
    expect(dropped.every((row) => typeof row.reason === 'string')).toBe(true);
    expect(dropped).toHaveLength(Object.values(summary.dropped).reduce((a, b) => a + b, 0));

    const store = await Store.open(storeDir);
    const ids = new Set((await store.listPassages()).map((passage) => passage.id));
    store.close();
    for (const row of queries) {
      expect(ids.has(row.passage_id as string)).toBe(true);
      expect(typeof row.query).toBe('string');
      expect(['train', 'heldout']).toContain(row.split);
    }
    const heldOut = new Set(queries.filter((row) => row.split === 'heldout').map((row) => row.passage_id as string));
    expect(heldOut.size).toBe(summary.passages.heldOut);
    for (const row of readJsonl(path.join(out, 'candidates.jsonl'))) {
      const candidates = row.candidates as string[];
      expect(candidates.length).toBeGreaterThan(0);
      expect(candidates.length).toBeLessThanOrEqual(20);
      expect(candidates).toContain(row.passage_id);
      for (const id of candidates) expect(heldOut.has(id)).toBe(false);
    }

    const asked = server.requests.length;
    const again = await runCliAsync(synthArgs(out, server.url));
    expect(again.code, again.stderr).toBe(0);
    expect(server.requests.length).toBe(asked);
    const rerun = JSON.parse(again.stdout) as Summary;
    expect(rerun.cached).toBe(asked);
    expect(rerun.kept).toBe(summary.kept);
  }, 120_000);

  it('rides out 429 with Retry-After, 5xx bursts, malformed, truncated and empty bodies without losing a query', async () => {
    server = await startFakeLlmServer({ fallback: answerFromPassage });
    // Faults spread over several requests, so backoff stays short (the breaker has its own tests).
    const ok = { content: 'scheduler retry backoff' };
    server.script({ status: 429, retryAfter: '1' }, ok, 500, ok, 503, 503, ok, 'malformed', ok, 'truncated', ok, 'empty', 'no-choices');
    const out = path.join(tempDir('synth-out-'), 'run');
    const result = await runCliAsync(synthArgs(out, server.url, ['--concurrency', '1', '--timeout', '5', '--types', 'question,title']));
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.retries).toBe(8);
    expect(summary.failed).toBe(0);
    expect(summary.requests).toBe(server.requests.length);
    expect(summary.generated).toBe(summary.passages.sampled * 2);
    // Every job was answered exactly once with a 200.
    const succeeded = server.requests.filter((request) => request.reply === 'ok' || (typeof request.reply === 'object' && request.reply.status === undefined));
    expect(succeeded).toHaveLength(summary.passages.sampled * 2);
    expect(new Set(succeeded.map(identity)).size).toBe(succeeded.length);
    // The 429 asked for a second's pause, and the retry waited for it.
    const [first, second] = server.requests;
    expect((second?.receivedAt ?? 0) - (first?.receivedAt ?? 0)).toBeGreaterThanOrEqual(950);
  }, 120_000);

  it('after a kill -9 mid-run, resumes without asking a logged query again and ends with every query', async () => {
    server = await startFakeLlmServer({ fallback: (request) => ({ ...answerFromPassage(request), delayMs: 40 }) });
    const out = path.join(tempDir('synth-out-'), 'run');
    const child = spawn(process.execPath, [cliPath, ...synthArgs(out, server.url, ['--concurrency', '2'])], { cwd: repoRoot, env: { ...process.env, SPECIALIZE_HOME: testHome }, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const log = path.join(out, 'generations.jsonl');
    while (child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      if (fs.existsSync(log) && fs.readFileSync(log, 'utf8').split('\n').length > 20) {
        child.kill('SIGKILL');
        break;
      }
    }
    await exited;
    const logged = new Set(readJsonl(log).map((record) => record.key as string));
    expect(logged.size).toBeGreaterThan(19);
    const beforeResume = server.requests.length;
    const loggedIdentities = new Set(server.requests.map(identity));

    const resumed = await runCliAsync(synthArgs(out, server.url));
    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = JSON.parse(resumed.stdout) as Summary;
    const askedAfter = server.requests.slice(beforeResume).map(identity);
    // At most the requests in flight at the kill (2) are asked again; nothing that was logged.
    const repeated = askedAfter.filter((id) => loggedIdentities.has(id));
    expect(repeated.length).toBeLessThanOrEqual(2);
    expect(summary.cached).toBeGreaterThanOrEqual(logged.size);
    const records = readJsonl(log);
    expect(new Set(records.map((record) => record.key)).size).toBe(records.length);
    expect(records.length).toBe(summary.cached + askedAfter.length);
    expect(summary.generated).toBe(records.filter((record) => record.query !== null).length);
  }, 120_000);

  it('stops at once on SIGTERM while requests hang, keeps what was answered, and a rerun finishes', async () => {
    let answered = 0;
    // Ten answers, then every request hangs: cancellation must not wait for the request timeout.
    server = await startFakeLlmServer({ fallback: (request) => (answered++ < 10 ? answerFromPassage(request) : 'hang') });
    const out = path.join(tempDir('synth-out-'), 'run');
    const child = spawn(process.execPath, [cliPath, ...synthArgs(out, server.url, ['--concurrency', '2'])], { cwd: repoRoot, env: { ...process.env, SPECIALIZE_HOME: testHome }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    while (server.requests.length < 12) await new Promise((resolve) => setTimeout(resolve, 20));
    const signalledAt = performance.now();
    child.kill('SIGTERM');
    const code = await exited;
    expect(performance.now() - signalledAt).toBeLessThan(3000);
    expect(code).toBe(130);
    const summary = JSON.parse(stdout) as Summary & { cancelled: boolean };
    expect(summary.cancelled).toBe(true);
    expect(readJsonl(path.join(out, 'generations.jsonl'))).toHaveLength(10);
    expect(fs.existsSync(path.join(out, 'queries.jsonl'))).toBe(false);

    await server.close();
    server = await startFakeLlmServer({ fallback: answerFromPassage });
    const resumed = await runCliAsync(synthArgs(out, server.url));
    expect(resumed.code, resumed.stderr).toBe(0);
    const finished = JSON.parse(resumed.stdout) as Summary;
    expect(finished.cached).toBe(10);
    expect(finished.generated).toBe(finished.cached + server.requests.length);
  }, 120_000);

  it('writes queries for real passages with the embedded local model, no server and no key', async () => {
    const out = path.join(tempDir('synth-out-'), 'run');
    const result = await runCliAsync(['synth', '--store', storeDir, '--out', out, '--llm', 'local', '--max-passages', '4', '--hold-out', '0', '--types', 'question,keywords', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary & { llm: string };
    expect(summary.llm).toMatch(/^local gemma-3-270m-q4_k_m\.gguf/);
    expect(summary.requests).toBe(8);
    expect(summary.tokens.prompt).toBeGreaterThan(8 * 100);
    const records = readJsonl(path.join(out, 'generations.jsonl'));
    expect(records).toHaveLength(8);
    for (const record of records) expect(record.model).toMatch(/^local:gemma-3-270m-q4_k_m@a5fd3b62230a$/);
    // A 270M base model: most answers parse into a query of a few words about the passage.
    const parsed = records.filter((record) => typeof record.query === 'string');
    expect(parsed.length).toBeGreaterThanOrEqual(5);
    for (const record of parsed) expect((record.query as string).split(/\s+/).length).toBeLessThanOrEqual(30);
  }, 180_000);

  it('names a bad --llm, a missing --model and an unknown type with their fixes', () => {
    const out = path.join(tempDir('synth-out-'), 'run');
    const badUrl = runCli(['synth', '--store', storeDir, '--out', out, '--llm', 'ftp://x']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/neither "local" nor an http\(s\) URL/);
    const noModel = runCli(['synth', '--store', storeDir, '--out', out, '--llm', 'http://127.0.0.1:9/v1']);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/needs --model/);
    const badType = runCli(['synth', '--store', storeDir, '--out', out, '--llm', 'http://127.0.0.1:9/v1', '--model', 'm', '--types', 'question,riddle']);
    expect(badType.code).toBe(2);
    expect(badType.stderr).toMatch(/Unknown query type "riddle"/);
  });
});
