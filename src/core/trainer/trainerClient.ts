import type { RequestType, RequestType0 } from 'vscode-jsonrpc/node';
import { CancelledError, throwIfAborted } from '../errors';
import { checkPythonExists, pythonEnvironment, pythonExecutable } from '../python/pythonEnv';
import { ExitNotification, InitializeRequest, PROTOCOL_VERSION, ShutdownRequest, TRAINER_MODULE, type InitializeParams, type InitializeResult, type LogParams, type ProgressParams } from './protocol';
import { DEFAULT_RESTART_POLICY, RestartSupervisor, type RestartPolicy } from './supervisor';
import { TrainerError } from './trainerErrors';
import { describeExit, tailText, TrainerProcess } from './trainerProcess';

export interface TrainerStartOptions {
  /**
   * Prepended to the command line, e.g. `['ssh', 'gpu-host']` or `['torchrun', '--no-python',
   * '--nproc_per_node', '2']`. The environment below is set for the local process only; a remote
   * side must find the trainer package itself.
   */
  commandPrefix?: readonly string[];
  /** The Python interpreter; default SPECIALIZE_PYTHON, else the project's .venv. */
  python?: string;
  /** Added to the trainer's environment (over PYTHONPATH=trainer and the quiet-library defaults). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  onLog?: (entry: LogParams) => void;
  onProgress?: (progress: ProgressParams) => void;
  /** Each stderr line of the trainer (tracebacks, native libraries' output, stray prints). */
  onStderr?: (line: string) => void;
  onRestart?: (event: TrainerRestartEvent) => void;
  restart?: Partial<RestartPolicy>;
  /** How long the trainer may take to start and answer `initialize` (default 120 s: imports, ssh). */
  startTimeoutMs?: number;
  /** How long a cancelled request waits for the trainer to confirm before it is rejected anyway (default 10 s). */
  cancelGraceMs?: number;
}

export interface TrainerRestartEvent {
  /** 1 for the first restart within the supervisor's window. */
  attempt: number;
  delayMs: number;
  reason: string;
}

export type TrainerState = 'running' | 'restarting' | 'failed' | 'closed';

const CLIENT_VERSION = '0.1.0';
const DOCTOR = '`specialize doctor` shows what is wrong with the trainer environment.';

/**
 * The trainer process (trainer/specialize_trainer/rpc/server.py) seen from TypeScript: typed
 * requests over JSON-RPC, cancellation by AbortSignal, progress and log notifications, and a
 * supervisor that restarts the process when it crashes.
 *
 *   const trainer = await TrainerClient.start({ onProgress: (p) => render(p) });
 *   const result = await trainer.request(SomeRequest, { run_dir }, signal);
 *   await trainer.shutdown();
 *
 * Requests in flight when the process dies are rejected (they are not repeated: a training step is
 * not idempotent); later requests wait for the restarted process.
 */
export class TrainerClient {
  private process: TrainerProcess | undefined;
  private ready: Promise<TrainerProcess>;
  private currentState: TrainerState = 'running';
  private failure: Error | undefined;
  private lastInfo: InitializeResult | undefined;
  private lastStderr: readonly string[] = [];
  private wake: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private readonly supervisor: RestartSupervisor;

  private constructor(
    private readonly options: TrainerStartOptions,
    private readonly command: readonly string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.supervisor = new RestartSupervisor({ ...DEFAULT_RESTART_POLICY, ...options.restart });
    this.ready = new Promise(() => undefined);
  }

  /** Starts the trainer and waits for its `initialize` answer; a trainer that cannot start throws here. */
  static async start(options: TrainerStartOptions = {}): Promise<TrainerClient> {
    const client = new TrainerClient(options, trainerCommand(options), pythonEnvironment(options.env));
    const process = await client.launch();
    client.process = process;
    client.ready = Promise.resolve(process);
    return client;
  }

  get state(): TrainerState {
    return this.currentState;
  }

  /** The latest `initialize` answer. */
  get info(): InitializeResult {
    return this.lastInfo as InitializeResult;
  }

  /** The running trainer's process id (undefined while it restarts). */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** The last stderr lines of the running (or last) trainer process. */
  stderrTail(): string[] {
    return [...(this.process?.stderr ?? this.lastStderr)];
  }

  /** Asks the trainer again what it runs on (the answer to the start's handshake is `info`). */
  async initialize(signal?: AbortSignal): Promise<InitializeResult> {
    this.lastInfo = await this.request(InitializeRequest, initializeParams(), signal);
    return this.lastInfo;
  }

  request<R>(type: RequestType0<R, void>, params?: undefined, signal?: AbortSignal): Promise<R>;
  request<P, R>(type: RequestType<P, R, void>, params: P, signal?: AbortSignal): Promise<R>;
  request<R = unknown>(method: string, params?: unknown, signal?: AbortSignal): Promise<R>;
  async request(type: string | { method: string }, params?: unknown, signal?: AbortSignal): Promise<unknown> {
    const method = typeof type === 'string' ? type : type.method;
    throwIfAborted(signal, `trainer request ${method}`);
    const process = await this.runningProcess(method, signal);
    return process.send(method, params, signal, this.options.cancelGraceMs ?? 10_000);
  }

  /** LSP-style stop: `shutdown` (the trainer cancels its work), `exit`, and a kill if it lingers. */
  shutdown(timeoutMs = 10_000): Promise<void> {
    if (this.closing) return this.closing;
    this.currentState = 'closed';
    this.wake?.();
    const process = this.process;
    this.closing = (async () => {
      if (!process || process.exit) return;
      try {
        await withTimeout(process.send(ShutdownRequest.method, undefined, undefined, 0), timeoutMs);
        await process.connection.sendNotification(ExitNotification);
      } catch {
        // Killed below.
      }
      const exited = await withTimeout(process.exited, 5_000).then(
        () => true,
        () => false,
      );
      if (!exited) {
        process.kill();
        await process.exited;
      }
    })();
    return this.closing;
  }

  private async runningProcess(method: string, signal: AbortSignal | undefined): Promise<TrainerProcess> {
    if (this.currentState === 'closed') throw closedError(method);
    if (this.currentState === 'failed') throw this.failure as Error;
    if (!signal) return this.ready;
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new CancelledError(`trainer request ${method}`));
      signal.addEventListener('abort', onAbort, { once: true });
      this.ready.then(
        (process) => {
          signal.removeEventListener('abort', onAbort);
          resolve(process);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error as Error);
        },
      );
    });
  }

  /** Spawns a trainer and completes the handshake, or throws an error that says why it could not. */
  private async launch(): Promise<TrainerProcess> {
    const process = new TrainerProcess(this.command, this.env, this.options.cwd, {
      onStderr: this.options.onStderr,
      onLog: this.options.onLog,
      onProgress: this.options.onProgress,
      exitError: (ended, method) => this.exitError(ended, method),
      onExit: (ended) => this.onExit(ended),
    });
    const startTimeoutMs = this.options.startTimeoutMs ?? 120_000;
    try {
      const info = (await withTimeout(process.send(InitializeRequest.method, initializeParams(), undefined, 0), startTimeoutMs)) as InitializeResult;
      this.lastInfo = info;
      return process;
    } catch (error) {
      process.kill();
      await process.exited;
      this.lastStderr = [...process.stderr];
      throw this.startError(process, error, startTimeoutMs);
    }
  }

  private onExit(process: TrainerProcess): void {
    this.lastStderr = [...process.stderr];
    // Startup failures are launch()'s to report; a shut-down client restarts nothing.
    if (process !== this.process || this.currentState !== 'running') return;
    this.process = undefined;
    this.currentState = 'restarting';
    this.ready = this.restartLoop(`the trainer process exited unexpectedly (${describeExit(process.exit)})`);
    // Waiters get the failure through runningProcess(); nobody else awaits this promise.
    this.ready.catch(() => undefined);
  }

  private async restartLoop(reason: string): Promise<TrainerProcess> {
    for (;;) {
      const decision = this.supervisor.onCrash();
      if (!decision.restart) {
        this.currentState = 'failed';
        const { maxRestarts, windowMs } = this.supervisor.policy;
        const tail = tailText(this.lastStderr);
        this.failure = new TrainerError(
          `The trainer crashed ${decision.crashes} times within ${Math.round(windowMs / 1000)} s and is not restarted again (at most ${maxRestarts} restarts); last: ${reason}.${tail ? ` Its last output: ${tail}` : ''}`,
          `Fix the cause in the trainer's output above, then run the command again. ${DOCTOR}`,
        );
        throw this.failure;
      }
      this.options.onRestart?.({ attempt: decision.attempt, delayMs: decision.delayMs, reason });
      await this.sleep(decision.delayMs);
      if (this.isClosed()) throw closedError('restart');
      try {
        const process = await this.launch();
        if (this.isClosed()) {
          process.kill();
          throw closedError('restart');
        }
        this.process = process;
        this.currentState = 'running';
        return process;
      } catch (error) {
        if (this.isClosed()) throw closedError('restart');
        reason = (error as Error).message;
      }
    }
  }

  /** A method, so TypeScript does not narrow the state across the awaits of restartLoop(). */
  private isClosed(): boolean {
    return this.currentState === 'closed';
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private exitError(process: TrainerProcess, method: string): Error {
    if (this.currentState === 'closed') return closedError(method);
    const tail = tailText(process.stderr);
    return new TrainerError(
      `The trainer process exited unexpectedly (${describeExit(process.exit)}) during ${method}.${tail ? ` Its last output: ${tail}` : ''}`,
      `The trainer restarts by itself; run the step again. If it keeps failing, ${DOCTOR}`,
      method,
    );
  }

  private startError(process: TrainerProcess, error: unknown, startTimeoutMs: number): Error {
    const commandLine = this.command.join(' ');
    const fix = this.options.commandPrefix?.length
      ? `Check that \`${commandLine}\` works from a terminal (the prefix, and the trainer package on that side).`
      : 'Run `npm run setup`, or set SPECIALIZE_PYTHON to a Python that has trainer/requirements.txt installed.';
    if (process.spawnError) return new TrainerError(`Cannot start the trainer (${commandLine}): ${process.spawnError.message}.`, fix);
    const tail = tailText(process.stderr);
    const output = tail ? ` Its last output: ${tail}` : '';
    if (error instanceof TimeoutError) return new TrainerError(`The trainer did not answer within ${Math.round(startTimeoutMs / 1000)} s of starting (${commandLine}).${output}`, fix);
    if (process.exit) {
      return new TrainerError(`The trainer exited during startup (${describeExit(process.exit)}): ${commandLine}.${output}`, fix);
    }
    return new TrainerError(`The trainer failed to start (${commandLine}): ${(error as Error).message}.${output}`, fix);
  }
}

/** The argv that starts the trainer: the prefix, the interpreter, `-m specialize_trainer.rpc.server`. */
export function trainerCommand(options: Pick<TrainerStartOptions, 'commandPrefix' | 'python'> = {}): string[] {
  const prefix = options.commandPrefix ?? [];
  const python = options.python ?? pythonExecutable();
  // Through a prefix (ssh, torchrun) the interpreter lives elsewhere; a chosen python is trusted.
  if (prefix.length === 0 && !options.python) checkPythonExists(python);
  return [...prefix, python, '-m', TRAINER_MODULE];
}

function initializeParams(): InitializeParams {
  return { client: { name: 'specialize', version: CLIENT_VERSION }, protocol_version: PROTOCOL_VERSION };
}

function closedError(method: string): TrainerError {
  return new TrainerError(`The trainer was shut down; ${method} did not run to the end.`, 'Start the trainer again and repeat the step.', method);
}

class TimeoutError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
}
