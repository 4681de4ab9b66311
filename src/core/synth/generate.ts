import type { StoredPassage } from '../store/schema';
import { describeKind } from '../ingest/chunk/kinds';
import { generationKey, type GenerationLog, type GenerationRecord } from './generationLog';
import { LlmError, type LlmClient } from './llm/types';
import { parseQuery } from './parse';
import { GENERATION, promptMessages } from './prompt';
import { promptVersion, type QueryType } from './queryTypes';

export interface PassageToAsk {
  passage: StoredPassage;
  split: 'train' | 'heldout';
}

/** One request to make: a passage, a query type, and which of its N queries of that type. */
interface Job {
  key: string;
  item: PassageToAsk;
  type: QueryType;
  n: number;
  version: string;
}

export interface GenerationProgress {
  /** Requests answered in this run (cached answers not included). */
  done: number;
  /** Requests this run has to make. */
  total: number;
  /** Answers already in the log from earlier runs, not asked again. */
  cached: number;
  kept: number;
  dropped: Record<string, number>;
  /** Requests that failed for good in this run (not logged, so a rerun asks again). */
  failed: number;
  promptTokens: number;
  completionTokens: number;
  seconds: number;
  /** Completed requests per second over this run. */
  queriesPerSecond: number;
  /** Seconds left at the current rate (undefined until the first answer). */
  etaSeconds: number | undefined;
}

export interface GenerateOptions {
  client: LlmClient;
  log: GenerationLog;
  items: readonly PassageToAsk[];
  types: readonly QueryType[];
  /** Queries of each type per passage. */
  perType: number;
  signal?: AbortSignal;
  onProgress?: (progress: GenerationProgress) => void;
  /** Records per fsync (a kill loses at most this many answers). */
  flushEvery?: number;
}

export interface GenerationOutcome extends GenerationProgress {
  cancelled: boolean;
}

/**
 * Asks the LLM for every (passage, type, n) not already in the log, `client.concurrency` at a
 * time, parsing each answer and appending it to the log in fsynced batches. Stops early, keeping
 * what was answered, when the signal aborts or the endpoint fails in a way retrying cannot fix.
 */
export async function generateQueries(options: GenerateOptions): Promise<GenerationOutcome> {
  const { client, log } = options;
  const jobs: Job[] = [];
  let cached = 0;
  for (const job of plannedJobs(options.items, options.types, options.perType, client.modelId)) {
    if (log.has(job.key)) cached += 1;
    else jobs.push(job);
  }
  const started = performance.now();
  const progress: GenerationProgress = {
    done: 0,
    total: jobs.length,
    cached,
    kept: 0,
    dropped: {},
    failed: 0,
    promptTokens: 0,
    completionTokens: 0,
    seconds: 0,
    queriesPerSecond: 0,
    etaSeconds: undefined,
  };
  const report = () => {
    progress.seconds = (performance.now() - started) / 1000;
    progress.queriesPerSecond = progress.done / Math.max(progress.seconds, 1e-9);
    progress.etaSeconds = progress.done > 0 ? (progress.total - progress.done) / progress.queriesPerSecond : undefined;
    options.onProgress?.({ ...progress, dropped: { ...progress.dropped } });
  };
  report();

  // One controller for the whole run: the caller's cancel and a fatal endpoint error both stop it.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();

  const flushEvery = options.flushEvery ?? 16;
  let pending: GenerationRecord[] = [];
  const flush = () => {
    log.append(pending);
    pending = [];
  };
  let fatal: unknown;
  let succeeded = false;
  let next = 0;

  const worker = async () => {
    while (!stop.signal.aborted && next < jobs.length) {
      const job = jobs[next++] as Job;
      try {
        const answer = await client.complete({ messages: promptMessages(job.type, job.item.passage.text, job.key), ...GENERATION, signal: stop.signal });
        succeeded = true;
        const parsed = parseQuery(answer.text, job.type, job.item.passage.text);
        pending.push({
          key: job.key,
          passage_id: job.item.passage.id,
          passage_hash: job.item.passage.hash,
          type: job.type.id,
          n: job.n,
          prompt_version: job.version,
          model: client.modelId,
          split: job.item.split,
          raw: answer.text,
          query: parsed.ok ? parsed.query : null,
          reason: parsed.ok ? null : parsed.reason,
          prompt_tokens: answer.promptTokens,
          completion_tokens: answer.completionTokens,
        });
        if (parsed.ok) progress.kept += 1;
        else progress.dropped[parsed.reason] = (progress.dropped[parsed.reason] ?? 0) + 1;
        progress.promptTokens += answer.promptTokens;
        progress.completionTokens += answer.completionTokens;
        progress.done += 1;
        if (pending.length >= flushEvery) flush();
        report();
      } catch (error) {
        if (stop.signal.aborted) return;
        if (isFatal(error, succeeded)) {
          fatal = error;
          stop.abort();
          return;
        }
        // Given up on after retries: not logged, so the next run asks again.
        progress.failed += 1;
        report();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(client.concurrency, jobs.length)) }, worker));
  } finally {
    flush();
    options.signal?.removeEventListener('abort', onAbort);
  }
  report();
  if (fatal !== undefined) throw fatal;
  return { ...progress, dropped: { ...progress.dropped }, cancelled: options.signal?.aborted ?? false };
}

/**
 * Errors that no later request can escape: a bad key, an open circuit, or a request the endpoint
 * rejects before it ever answered one (an unknown model name). A 400 after successes is about one
 * prompt (say, too long for the context) and only that request fails.
 */
function isFatal(error: unknown, anySucceeded: boolean): boolean {
  if (!(error instanceof LlmError)) return true;
  if (error.kind === 'auth' || error.kind === 'circuit-open') return true;
  return error.kind === 'bad-request' && !anySucceeded;
}

/** Every (passage, type, n) to ask, in passage order so partial runs cover whole passages. */
export function* plannedJobs(items: readonly PassageToAsk[], types: readonly QueryType[], perType: number, model: string): Generator<Job> {
  const versions = new Map(types.map((type) => [type.id, promptVersion(type)]));
  for (const item of items) {
    const technical = isTechnicalPassage(item.passage);
    for (const type of types) {
      if (type.technicalOnly && !technical) continue;
      const version = versions.get(type.id) as string;
      for (let n = 0; n < perType; n += 1) {
        yield { key: generationKey({ passageHash: item.passage.hash, type: type.id, n, promptVersion: version, model }), item, type, n, version };
      }
    }
  }
}

/** Identifiers, calls, options or inline code: signs that a prose passage is technical documentation. */
const TECHNICAL_SIGNS = /`[^`\n]+`|\b\w+\(\)|\b[a-z]+_[a-z0-9_]+\b|\b[a-z]+[A-Z][A-Za-z0-9]*\b|(^|\s)--?[a-z][\w-]*|[{};]\s*$|::|=>/m;

/** Code and notebooks always; documents and text when they read like technical documentation. */
export function isTechnicalPassage(passage: Pick<StoredPassage, 'path' | 'text'>): boolean {
  const kind = describeKind(passage.path);
  if (kind.startsWith('code:') || kind === 'notebook') return true;
  return TECHNICAL_SIGNS.test(passage.text);
}

/** Requests a run will make (for cost estimates), and how many the log already answers. */
export function countJobs(items: readonly PassageToAsk[], types: readonly QueryType[], perType: number, model: string, log?: GenerationLog): { requests: number; cached: number; promptChars: number } {
  let requests = 0;
  let cached = 0;
  let promptChars = 0;
  for (const job of plannedJobs(items, types, perType, model)) {
    if (log?.has(job.key)) {
      cached += 1;
      continue;
    }
    requests += 1;
    promptChars += promptMessages(job.type, job.item.passage.text, job.key).reduce((sum, message) => sum + message.content.length, 0);
  }
  return { requests, cached, promptChars };
}
