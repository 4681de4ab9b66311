import { spawn, spawnSync } from 'node:child_process';
import { cliPath, repoRoot } from './env';
import { testHome } from './models';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with the tests' model cache. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(process.execPath, [cliPath, ...args], {
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
