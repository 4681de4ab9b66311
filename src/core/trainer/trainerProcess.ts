import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { CancellationTokenSource, createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type Message, type MessageConnection } from 'vscode-jsonrpc/node';
import { CancelledError } from '../errors';
import { LogNotification, ProgressNotification, type LogParams, type ProgressParams } from './protocol';
import { fromResponseError } from './trainerErrors';

/** Lines of the trainer's stderr kept for error messages. */
export const STDERR_LINES = 50;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TrainerProcessHooks {
  onStderr?: (line: string) => void;
  onLog?: (entry: LogParams) => void;
  onProgress?: (progress: ProgressParams) => void;
  /** The error that requests still waiting when the process ends are rejected with. */
  exitError: (process: TrainerProcess, method: string) => Error;
  /** Called once, after the process has ended and its waiting requests were rejected. */
  onExit: (process: TrainerProcess) => void;
}

interface Pending {
  method: string;
  fail: (error: Error) => void;
}

/** Writes never reject: a dead trainer is noticed by its exit, which fails the requests waiting on it. */
class TolerantWriter extends StreamMessageWriter {
  override async write(message: Message): Promise<void> {
    try {
      await super.write(message);
    } catch {
      // The 'close' handler below reports the exit.
    }
  }
}

/** One run of the trainer: the child process and the JSON-RPC connection over its stdio. */
export class TrainerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly connection: MessageConnection;
  /** The last STDERR_LINES lines of stderr, with warnings and errors the trainer logged. */
  readonly stderr: string[] = [];
  readonly exited: Promise<ExitInfo>;
  exit: ExitInfo | undefined;
  spawnError: Error | undefined;
  private readonly pending = new Set<Pending>();

  constructor(
    readonly command: readonly string[],
    env: NodeJS.ProcessEnv,
    cwd: string | undefined,
    private readonly hooks: TrainerProcessHooks,
  ) {
    const [file, ...args] = command;
    if (file === undefined) throw new Error('The trainer command is empty');
    this.child = spawn(file, args, { env, ...(cwd ? { cwd } : {}), stdio: ['pipe', 'pipe', 'pipe'] });
    this.connection = createMessageConnection(new StreamMessageReader(this.child.stdout), new TolerantWriter(this.child.stdin));
    this.connection.onNotification(ProgressNotification, (progress) => hooks.onProgress?.(progress));
    this.connection.onNotification(LogNotification, (entry) => {
      if (entry.level !== 'debug' && entry.level !== 'info') this.keep(`[${entry.level}] ${entry.message}`);
      hooks.onLog?.(entry);
    });
    this.connection.listen();

    let partial = '';
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.stderrLine(line);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error) => (this.spawnError = error));
      // 'close' comes after stdout and stderr have ended, so every answer sent before the exit is read.
      this.child.on('close', (code, signal) => {
        if (partial) this.stderrLine(partial);
        partial = '';
        this.exit = { code, signal };
        for (const pending of [...this.pending]) pending.fail(hooks.exitError(this, pending.method));
        this.pending.clear();
        this.connection.dispose();
        resolve(this.exit);
        hooks.onExit(this);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Sends a request. An abort sends `$/cancelRequest` and waits for the trainer's answer (it stops
   * within one batch); if none comes within `cancelGraceMs`, the promise is rejected anyway.
   */
  send(method: string, params: unknown, signal: AbortSignal | undefined, cancelGraceMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.exit) {
        reject(this.hooks.exitError(this, method));
        return;
      }
      const source = new CancellationTokenSource();
      let grace: NodeJS.Timeout | undefined;
      let settled = false;
      const pending: Pending = { method, fail: (error) => settle(() => reject(error)) };
      const onAbort = () => {
        source.cancel();
        grace = setTimeout(() => settle(() => reject(new CancelledError(`trainer request ${method}`))), cancelGraceMs);
      };
      const settle = (action: () => void) => {
        if (settled) return;
        settled = true;
        this.pending.delete(pending);
        signal?.removeEventListener('abort', onAbort);
        clearTimeout(grace);
        source.dispose();
        action();
      };
      this.pending.add(pending);
      signal?.addEventListener('abort', onAbort, { once: true });
      let answer: Promise<unknown>;
      try {
        answer = params === undefined ? this.connection.sendRequest(method, source.token) : this.connection.sendRequest(method, params, source.token);
      } catch (error) {
        // The connection has just closed: the exit handler's error says why.
        settle(() => reject(this.exit ? this.hooks.exitError(this, method) : (error as Error)));
        return;
      }
      answer.then(
        (result) => settle(() => resolve(result)),
        (error: unknown) => settle(() => reject(error instanceof ResponseError ? fromResponseError(method, error) : (error as Error))),
      );
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exit) this.child.kill(signal);
  }

  private stderrLine(line: string): void {
    this.keep(line);
    this.hooks.onStderr?.(line);
  }

  private keep(line: string): void {
    this.stderr.push(line);
    if (this.stderr.length > STDERR_LINES) this.stderr.splice(0, this.stderr.length - STDERR_LINES);
  }
}

export function describeExit(exit: ExitInfo | undefined): string {
  if (!exit) return 'still running';
  return exit.code !== null ? `exit code ${exit.code}` : `signal ${exit.signal ?? 'unknown'}`;
}

/** The last few meaningful stderr lines, for one-line error messages. */
export function tailText(lines: readonly string[], count = 5): string {
  return lines
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(-count)
    .join(' | ');
}
