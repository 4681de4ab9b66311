/**
 * A problem the user can fix. `message` names what is wrong; `fix` says what to do about it.
 * Front ends (CLI, extension) show both and exit/notify; anything else is a bug and shows a stack.
 */
export class SpecializeError extends Error {
  override readonly name = 'SpecializeError';

  constructor(
    message: string,
    readonly fix: string,
    readonly code: ErrorCode = 'invalid-input',
  ) {
    super(message);
  }
}

export type ErrorCode =
  | 'invalid-input'
  | 'not-found'
  | 'model-invalid'
  | 'store-invalid'
  | 'store-version'
  | 'python-env'
  | 'network'
  | 'disk-full'
  /** A run folder made with other settings or by another version: resume refused. */
  | 'run-mismatch'
  | 'cancelled';

export function isSpecializeError(error: unknown): error is SpecializeError {
  return error instanceof SpecializeError;
}

/** Thrown when an AbortSignal fires; carries the standard name so callers can tell it from failures. */
export class CancelledError extends SpecializeError {
  constructor(what = 'operation') {
    super(`The ${what} was cancelled.`, 'Run it again to continue; completed work is kept.', 'cancelled');
  }
}

export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw new CancelledError(what);
}

// A write refused for lack of space: a full disk, a quota, or a file-size limit (RLIMIT_FSIZE).
const OUT_OF_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** True for a Node.js file-system error that means the disk (or quota, or file-size limit) is full. */
export function isOutOfSpace(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && OUT_OF_SPACE_CODES.has((error as NodeJS.ErrnoException).code ?? '');
}
