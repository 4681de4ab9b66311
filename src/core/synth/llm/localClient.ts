import * as path from 'node:path';
import type { ChatHistoryItem, Llama, LlamaChat, LlamaCompletion, LlamaContext, LlamaModel } from 'node-llama-cpp';
import { SpecializeError } from '../../errors';
import { cachedSha256File } from '../../util/hash';
import { ensureHome, specializeHome } from '../../util/paths';
import { checkGgufFile } from './localModelFile';
import { type ChatMessage, type CompletionRequest, type CompletionResult, type LlmClient, LlmError } from './types';

/**
 * The embedded LLM: a GGUF model run in-process by llama.cpp (node-llama-cpp), so synthetic
 * queries need no server and no key. Each request is a fresh chat rendered with the model's own
 * chat template; requests beyond `concurrency` wait for a free context sequence.
 *
 * Parallel requests on the CPU get a context each, with the threads split between them, rather
 * than sequences of one shared context: measured on 2 cores with Gemma 3 270M, two sequences in
 * one 2-thread context generate 61 tokens/s in all (one alone: 65), two 1-thread contexts 120.
 * For a model this small llama.cpp's per-token thread synchronisation costs more than the math.
 * On a GPU one context batches the sequences, which is what GPUs are good at.
 */

export interface LocalLlmOptions {
  /** A .gguf file (see resolveLocalModelFile for the packaged default). */
  modelPath: string;
  /** The file's sha256 when the caller already has it; otherwise computed (and cached by mtime). */
  sha256?: string;
  /** CPU threads for evaluation (default: the cores llama.cpp finds useful for math). */
  threads?: number;
  /** Tokens each sequence holds: prompt plus answer (default 4096). */
  contextSize?: number;
  /** `false` (default): CPU only. 'auto' picks CUDA/Vulkan/Metal when a working one is found. */
  gpu?: false | 'auto' | 'cuda' | 'vulkan' | 'metal';
  /** Requests run at once (default: one per CPU core up to 4, each on one thread; 4 on a GPU); more wait in order. */
  concurrency?: number;
}

type NodeLlamaCpp = typeof import('node-llama-cpp');

/** Enough for the method's prompt: three examples and a passage of ≤ 2048 characters each, plus 50 new tokens. */
const DEFAULT_CONTEXT_SIZE = 4096;

export class LocalLlmClient implements LlmClient {
  readonly description: string;
  readonly modelId: string;
  readonly paid = false;
  readonly concurrency: number;
  /** Tokens per sequence: prompt plus answer must fit. */
  readonly contextSize: number;

  private readonly pool: SlotPool<Slot>;
  private closed = false;
  /** Aborts generations still running when the client closes (disposing alone does not stop them). */
  private readonly closing = new AbortController();
  /** Generations in flight: close() waits for them to stop before freeing what they run on. */
  private readonly running = new Set<Promise<unknown>>();

  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly contexts: readonly LlamaContext[],
    private readonly slots: readonly Slot[],
    identity: { modelPath: string; sha256: string; threadsPerContext: number; completionMode: boolean },
  ) {
    this.concurrency = slots.length;
    this.contextSize = Math.min(...contexts.map((context) => context.contextSize));
    this.pool = new SlotPool(slots);
    const name = path.basename(identity.modelPath).replace(/\.gguf$/i, '');
    // The content hash, not the path: the same file elsewhere keeps its cached queries, another file never does.
    this.modelId = `local:${name}@${identity.sha256.slice(0, 12)}`;
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    const device = llama.gpu === false ? `CPU, ${plural(contexts.length, 'context')} × ${plural(identity.threadsPerContext, 'thread')}` : `${llama.gpu.toUpperCase()}, ${plural(this.concurrency, 'sequence')}`;
    this.description = `local ${path.basename(identity.modelPath)} (llama.cpp, ${device}${identity.completionMode ? ', base model: few-shot text' : ''})`;
  }

  static async create(options: LocalLlmOptions): Promise<LocalLlmClient> {
    for (const [name, value] of [['concurrency', options.concurrency], ['threads', options.threads], ['contextSize', options.contextSize]] as const) {
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
        throw new SpecializeError(`The local LLM's ${name} must be a whole number ≥ 1 (got ${value}).`, `Pass a positive whole number for ${name}, or leave it unset for the default.`);
      }
    }
    const modelPath = await checkGgufFile(options.modelPath);
    const sha256 = options.sha256 ?? (await cachedSha256File(modelPath, path.join(await ensureHome(specializeHome()), 'fingerprints')));
    const llamaCpp = await loadNodeLlamaCpp();
    const gpu = options.gpu ?? false;
    let llama: Llama;
    try {
      llama = await llamaCpp.getLlama({
        // Never compile llama.cpp behind the user's back (minutes of CPU); the prebuilt binaries
        // that npm installed either work or the error below says what to do.
        build: 'never',
        gpu,
        // Its default thread cap is max(cores, 4), which oversubscribes small machines.
        ...(options.threads ? { maxThreads: options.threads } : {}),
        // llama.cpp warns about harmless GGUF quirks on stderr; errors still surface as exceptions.
        logLevel: llamaCpp.LlamaLogLevel.error,
      });
    } catch (error) {
      throw new SpecializeError(
        `node-llama-cpp found no working llama.cpp binary${gpu === false ? '' : ` for gpu "${gpu}"`} (${messageOf(error)}).`,
        gpu === false ? 'Reinstall the npm packages (`npm ci`), or use an OpenAI-compatible endpoint instead of the local model.' : 'Run on the CPU (leave gpu unset), or install the GPU drivers llama.cpp needs.',
        'invalid-input',
      );
    }
    try {
      const threads = options.threads ?? Math.max(1, llama.cpuMathCores);
      // On the CPU, one single-threaded context per core: measured 1.8x the tokens/s of one
      // two-threaded context on 2 cores, and steadier when other work shares the cores.
      const concurrency = options.concurrency ?? (llama.gpu === false ? Math.min(4, threads) : 4);
      const model = await llama.loadModel({ modelPath });
      const contextSize = options.contextSize ?? DEFAULT_CONTEXT_SIZE;
      const onCpu = llama.gpu === false;
      const threadsPerContext = onCpu ? Math.max(1, Math.floor(threads / concurrency)) : threads;
      const contexts: LlamaContext[] = [];
      // See the top of this file for why the CPU gets a context per request.
      for (let i = 0; i < (onCpu ? concurrency : 1); i += 1) {
        contexts.push(await model.createContext({ contextSize, sequences: onCpu ? 1 : concurrency, threads: threadsPerContext }));
      }
      // One chat per sequence for the client's life: a chat holds no history of its own (each
      // request passes a fresh one), and its sequence keeps the KV cache of the last prompt, so a
      // shared prefix (system message, examples) is not evaluated again.
      // A model without a chat template in its file is a base (pretrained) model: chat turns mean
      // nothing to it, but it continues a few-shot text well (the doc2query way), so it gets the
      // same messages rendered as plain text and stops at the end of the answer's line.
      const completionMode = model.fileInfo.metadata.tokenizer?.chat_template === undefined;
      const slots = contexts.flatMap((context) =>
        Array.from({ length: context.totalSequences }, (): Slot => {
          const contextSequence = context.getSequence();
          return completionMode ? { kind: 'completion', completion: new llamaCpp.LlamaCompletion({ contextSequence }) } : { kind: 'chat', chat: new llamaCpp.LlamaChat({ contextSequence }) };
        }),
      );
      return new LocalLlmClient(llama, model, contexts, slots, { modelPath, sha256, threadsPerContext, completionMode });
    } catch (error) {
      await llama.dispose();
      if (error instanceof SpecializeError) throw error;
      throw new SpecializeError(`llama.cpp could not load ${modelPath} (${messageOf(error)}).`, 'Check that the file is a complete GGUF model that llama.cpp supports, or use a smaller context size.', 'model-invalid');
    }
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    if (this.closed) throw closedError();
    if (request.signal?.aborted) throw cancelledError();
    if (!Number.isInteger(request.maxTokens) || request.maxTokens < 1) throw new LlmError('bad-request', `maxTokens must be a whole number ≥ 1 (got ${request.maxTokens}).`);
    const slot = await this.pool.acquire(request.signal);
    try {
      const signal = request.signal ? AbortSignal.any([request.signal, this.closing.signal]) : this.closing.signal;
      const bound = { ...request, signal };
      const generation = slot.kind === 'chat' ? this.completeChat(slot.chat, bound) : this.completeText(slot.completion, bound);
      this.running.add(generation);
      try {
        return await generation;
      } finally {
        this.running.delete(generation);
      }
    } catch (error) {
      if (request.signal?.aborted) throw cancelledError();
      if (this.closed) throw closedError();
      if (error instanceof LlmError) throw error;
      throw new LlmError('server', `llama.cpp failed on ${this.modelId}: ${messageOf(error)}`, { cause: error });
    } finally {
      this.pool.release(slot);
    }
  }

  private async completeChat(chat: LlamaChat, request: CompletionRequest): Promise<CompletionResult> {
    const history = toChatHistory(request.messages);
    const promptTokens = chat.chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(this.model.tokenizer).length;
    this.checkFits(promptTokens, request.maxTokens);
    let completionTokens = 0;
    const response = await chat.generateResponse(history, {
      maxTokens: request.maxTokens,
      temperature: request.temperature,
      ...(request.signal ? { signal: request.signal } : {}),
      onToken: (tokens) => {
        completionTokens += tokens.length;
      },
    });
    return { text: response.response, promptTokens, completionTokens };
  }

  private async completeText(completion: LlamaCompletion, request: CompletionRequest): Promise<CompletionResult> {
    const prompt = toFewShotText(request.messages);
    const promptTokens = this.model.tokenize(prompt).length;
    this.checkFits(promptTokens, request.maxTokens);
    // The answer is one line: stop at the first line break after some text (a base model often
    // opens with a break, so stopping at any break would give empty answers, and without the stop
    // it runs on into an invented next example until maxTokens).
    const lineDone = new AbortController();
    const signal = request.signal ? AbortSignal.any([request.signal, lineDone.signal]) : lineDone.signal;
    let text = '';
    let completionTokens = 0;
    await completion.generateCompletion(prompt, {
      maxTokens: request.maxTokens,
      temperature: request.temperature,
      customStopTriggers: ['\n\n', '\nPassage', '\nAnswer'],
      signal,
      stopOnAbortSignal: true,
      onTextChunk: (chunk) => {
        text += chunk;
        if (/\S[^\n]*\n/.test(text)) lineDone.abort();
      },
      onToken: (tokens) => {
        completionTokens += tokens.length;
      },
    });
    // stopOnAbortSignal turns the caller's cancel into a normal return too: tell them apart.
    if (request.signal?.aborted) throw cancelledError();
    return { text, promptTokens, completionTokens };
  }

  /**
   * Refused rather than generated: node-llama-cpp would silently drop the start of the prompt to
   * make room, and the answer would be to a prompt nobody wrote.
   */
  private checkFits(promptTokens: number, maxTokens: number): void {
    if (promptTokens + maxTokens > this.contextSize) {
      throw new LlmError('bad-request', `The prompt has ${promptTokens} tokens; with ${maxTokens} new tokens it exceeds the local model's context of ${this.contextSize} tokens.`);
    }
  }

  /** Tokens of `text` under the model's tokenizer (no special tokens). */
  countTokens(text: string): number {
    return this.model.tokenize(text).length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    this.pool.rejectWaiting(closedError());
    // Disposing a sequence under a generation that is still unwinding from the abort leaves that
    // generation's promise pending forever; let them settle first (they stop within a token).
    await Promise.allSettled([...this.running]);
    for (const slot of this.slots) {
      if (slot.kind === 'chat') slot.chat.dispose({ disposeSequence: true });
      else slot.completion.dispose({ disposeSequence: true });
    }
    for (const context of this.contexts) await context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}

/**
 * node-llama-cpp is ESM-only and ships native binaries, so the CJS bundles keep it external and
 * load it with import() (which esbuild leaves as is); a missing install becomes a clear error.
 */
async function loadNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  try {
    return await import('node-llama-cpp');
  } catch (error) {
    throw new SpecializeError(`Cannot load node-llama-cpp (${messageOf(error)}).`, 'Install the npm packages (`npm run setup`), or use an OpenAI-compatible endpoint instead of the local model.', 'invalid-input');
  }
}

type Slot = { kind: 'chat'; chat: LlamaChat } | { kind: 'completion'; completion: LlamaCompletion };

/**
 * Messages as a few-shot text for a base model: the instruction, then each user message followed
 * by the answer after "Answer:", ending with an open "Answer:" for the model to complete.
 */
export function toFewShotText(messages: readonly ChatMessage[]): string {
  const parts: string[] = [];
  for (const message of messages) {
    if (message.role === 'assistant') parts.push(`Answer: ${message.content}\n\n`);
    else parts.push(`${message.content.trim()}\n${message.role === 'system' ? '\n' : ''}`);
  }
  return `${parts.join('')}Answer:`;
}

/** Our messages as node-llama-cpp's history, ending in the empty model turn it is to write. */
function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((message): ChatHistoryItem => {
    switch (message.role) {
      case 'system':
        return { type: 'system', text: message.content };
      case 'user':
        return { type: 'user', text: message.content };
      case 'assistant':
        return { type: 'model', response: [message.content] };
    }
  });
  history.push({ type: 'model', response: [] });
  return history;
}

/**
 * Hands out a fixed set of items (one chat per context sequence) one request at a time; callers
 * beyond the set wait in order, and leave the queue at once when their signal aborts.
 */
class SlotPool<T> {
  private readonly free: T[];
  private readonly waiting: { resolve: (item: T) => void; reject: (error: Error) => void }[] = [];

  constructor(items: readonly T[]) {
    this.free = [...items];
  }

  acquire(signal?: AbortSignal): Promise<T> {
    const item = this.free.pop();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(cancelledError());
      };
      const waiter = {
        resolve: (granted: T) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(granted);
        },
        reject: (error: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  release(item: T): void {
    const next = this.waiting.shift();
    if (next) next.resolve(item);
    else this.free.push(item);
  }

  rejectWaiting(error: Error): void {
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

function cancelledError(): LlmError {
  return new LlmError('cancelled', 'The LLM request was cancelled.');
}

function closedError(): LlmError {
  return new LlmError('cancelled', 'The local LLM was closed.');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
