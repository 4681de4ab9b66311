import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancelledError, SpecializeError } from '../errors';
import { packageRoot } from '../util/paths';

/**
 * The project-owned Python environment (`.venv`, made by `npm run setup`) that runs the trainer
 * package: ONNX export, reference embeddings, and later teacher scoring and training.
 */
export function pythonExecutable(): string {
  const configured = process.env.SPECIALIZE_PYTHON;
  if (configured) return configured;
  const venv = path.join(packageRoot(), '.venv');
  return process.platform === 'win32' ? path.join(venv, 'Scripts', 'python.exe') : path.join(venv, 'bin', 'python');
}

export interface PythonRunOptions {
  input?: string;
  signal?: AbortSignal;
  /** Receives the child's stderr line by line (its logs). */
  onStderrLine?: (line: string) => void;
}

export interface PythonResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Fails with the fix when the project's own environment is missing (a configured Python is trusted). */
export function checkPythonExists(python: string): void {
  if (!process.env.SPECIALIZE_PYTHON && !fs.existsSync(python)) {
    throw new SpecializeError(`The Python environment ${python} does not exist.`, 'Run `npm run setup`, or set SPECIALIZE_PYTHON to a Python that has trainer/requirements.txt installed.', 'python-env');
  }
}

/** The environment Python runs in: the trainer package on PYTHONPATH, models offline, libraries quiet. */
export function pythonEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const trainerDir = path.join(packageRoot(), 'trainer');
  return {
    ...process.env,
    PYTHONPATH: [trainerDir, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
    // Models reach Python as local folders; the hub is the resolver's job, not Python's.
    HF_HUB_OFFLINE: '1',
    TRANSFORMERS_VERBOSITY: 'error',
    TQDM_DISABLE: '1',
    TOKENIZERS_PARALLELISM: 'false',
    PYTHONUNBUFFERED: '1',
    ...extra,
  };
}

/** Runs `python -m <module> …` in the trainer environment; never throws on a non-zero exit. */
export async function runPythonModule(module: string, args: readonly string[], options: PythonRunOptions = {}): Promise<PythonResult> {
  const python = pythonExecutable();
  checkPythonExists(python);
  const env = pythonEnvironment({ ORT_DISABLE_TELEMETRY: '1' });
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-m', module, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pendingLine = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const lines = (pendingLine + chunk).split('\n');
      pendingLine = lines.pop() ?? '';
      for (const line of lines) options.onStderrLine?.(line);
    });
    const onAbort = () => child.kill('SIGTERM');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(new SpecializeError(`Cannot start ${python}: ${error.message}.`, 'Run `npm run setup`, or set SPECIALIZE_PYTHON to a working Python.', 'python-env'));
    });
    child.on('close', (code) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (pendingLine) options.onStderrLine?.(pendingLine);
      if (options.signal?.aborted) reject(new CancelledError(`python ${module}`));
      else resolve({ stdout, stderr, code: code ?? 1 });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The last meaningful stderr lines, for error messages. */
export function stderrTail(stderr: string, lines = 3): string {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/warn/i.test(line))
    .slice(-lines)
    .join(' | ');
}
