import { ResponseError } from 'vscode-jsonrpc/node';
import { CancelledError, SpecializeError } from '../errors';
import { TrainerErrorCodes } from './protocol';

/** A trainer failure the user can act on: a crash, a problem the trainer named, a missing method. */
export class TrainerError extends SpecializeError {
  constructor(
    message: string,
    fix: string,
    /** The request that failed, when one did. */
    readonly method?: string,
    /** The JSON-RPC error code, when the trainer answered with one. */
    readonly rpcCode?: number,
    readonly data?: unknown,
  ) {
    super(message, fix, 'python-env');
  }
}

/** The trainer rejected a request as malformed or failed inside a handler: a bug, not the user's to fix. */
export class TrainerBugError extends Error {
  override readonly name = 'TrainerBugError';

  constructor(
    message: string,
    readonly method: string,
    readonly rpcCode: number,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

const DOCTOR = 'Run `specialize doctor` to check the trainer environment.';

/** Turns a JSON-RPC error answer into the error callers see. */
export function fromResponseError(method: string, error: ResponseError<unknown>): Error {
  const data = error.data as { fix?: unknown; traceback?: unknown } | undefined;
  switch (error.code) {
    case TrainerErrorCodes.RequestCancelled:
      return new CancelledError(`trainer request ${method}`);
    case TrainerErrorCodes.Problem:
      return new TrainerError(error.message, typeof data?.fix === 'string' ? data.fix : DOCTOR, method, error.code, error.data);
    case TrainerErrorCodes.NotImplementedYet:
      return new TrainerError(`The trainer cannot do this yet: ${error.message}.`, 'Nothing to fix on your side: this step is not part of this version of Specialize.', method, error.code, error.data);
    case TrainerErrorCodes.MethodNotFound:
      return new TrainerError(
        `The trainer has no method "${method}" (${error.message}).`,
        'The trainer package does not match this version of Specialize: run `npm run setup` (or point SPECIALIZE_PYTHON / the command prefix at a matching trainer).',
        method,
        error.code,
        error.data,
      );
    case TrainerErrorCodes.ShuttingDown:
      return new TrainerError(`The trainer is shutting down; ${method} was not run.`, 'Start the trainer again and repeat the step.', method, error.code, error.data);
    default: {
      const traceback = typeof data?.traceback === 'string' ? `\n${data.traceback.trimEnd()}` : '';
      return new TrainerBugError(`trainer request ${method} failed (JSON-RPC ${error.code}): ${error.message}${traceback}`, method, error.code, error.data);
    }
  }
}
