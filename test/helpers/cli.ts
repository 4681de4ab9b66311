import { spawn, spawnSync } from 'node:child_process';
import { cliPath, repoRoot } from './env';
import { testHome } from './models';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliLimits {
  /**
   * RLIMIT_FSIZE for the CLI and its children, in KiB: the kernel then refuses larger writes (EFBIG)
   * as a full disk refuses them (ENOSPC), which lets a test fill "the disk" without privileges.
   */
  fileSizeKb?: number;
}

/** Runs the built CLI with the tests' model cache. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, limits: CliLimits = {}): CliResult {
  const command = limits.fileSizeKb === undefined ? [process.execPath, cliPath, ...args] : ['/bin/sh', '-c', 'ulimit -f "$0" && exec "$@"', String(limits.fileSizeKb), process.execPath, cliPath, ...args];
  const result = spawnSync(command[0] as string, command.slice(1), {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, SPECIALIZE_HOME: testHome, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Starts the CLI without waiting, for tests that kill it. */
export function startCli(args: string[]) {
  return spawn(process.execPath, [cliPath, ...args], { cwd: repoRoot, env: { ...process.env, SPECIALIZE_HOME: testHome }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs the built CLI without blocking the event loop (for tests that serve it from this process). */
export function runCliAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = startCli(args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
