import { InvalidArgumentError } from 'commander';
import { isSpecializeError } from '../core/errors';
import type { ProgressListener } from '../core/progress';
import { createProgressRenderer } from './progressRenderer';

export interface CommandContext {
  signal: AbortSignal;
  progress: ProgressListener;
}

/** Long enough for an in-flight batch to commit, short enough that Ctrl-C / SIGTERM feels obeyed. */
const CANCEL_GRACE_MS = 5000;

/** Exit codes: 0 ok, 1 unexpected failure, 2 a problem the user can fix, 130 cancelled (Ctrl-C). */
export async function runCommand(options: { quiet?: boolean }, action: (context: CommandContext) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  const renderer = createProgressRenderer({ quiet: options.quiet === true });
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nCancelling… (press Ctrl-C again to quit at once)\n');
    controller.abort();
    // Work that cannot be interrupted mid-step gets a grace period; then the process goes anyway.
    setTimeout(() => process.exit(130), CANCEL_GRACE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await action({ signal: controller.signal, progress: renderer });
    renderer.stop();
  } catch (error) {
    renderer.stop();
    if (isSpecializeError(error)) {
      process.stderr.write(`specialize: ${error.message}\n  fix: ${error.fix}\n`);
      process.exitCode = error.code === 'cancelled' ? 130 : 2;
    } else {
      process.stderr.write(`specialize: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Commander argument parsers that reject bad values with one clear message. */
export function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
    return parsed;
  };
}

export function oneOf<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!choices.includes(value as T)) throw new InvalidArgumentError(`${name} must be one of ${choices.join(', ')}.`);
    return value as T;
  };
}

export function nonNegativeNumber(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0.`);
    return parsed;
  };
}

export function nonNegativeInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > max) throw new InvalidArgumentError(`${name} must be a whole number from 0 to ${max}.`);
    return parsed;
  };
}
