import { NotificationType, NotificationType0, RequestType, RequestType0 } from 'vscode-jsonrpc';

/**
 * The trainer protocol, TypeScript side: mirrors trainer/specialize_trainer/rpc/protocol.py (change
 * both together and bump PROTOCOL_VERSION when a message changes shape). JSON-RPC 2.0 over the
 * trainer's stdio with LSP-style Content-Length framing; field names are snake_case on the wire.
 *
 * Lifecycle as in LSP: `initialize` first, then requests; `shutdown`, then the `exit` notification.
 * `$/cancelRequest` (sent by vscode-jsonrpc when a request's CancellationToken fires) stops a running
 * request within one batch; it then fails with TrainerErrorCodes.RequestCancelled. Bulk inputs and
 * outputs are files in a run directory named by the request, never message payloads.
 */
export const PROTOCOL_VERSION = 1;
export const TRAINER_MODULE = 'specialize_trainer.rpc.server';

export const TrainerErrorCodes = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** LSP's RequestCancelled. */
  RequestCancelled: -32800,
  /** A known method whose implementation has not arrived yet. */
  NotImplementedYet: -32001,
  /** A problem the user can fix; `data.fix` says how. */
  Problem: -32002,
  /** A request sent after `shutdown`. */
  ShuttingDown: -32003,
} as const;

export interface InitializeParams {
  client?: { name: string; version: string };
  protocol_version?: number;
}

export interface InitializeResult {
  server: string;
  protocol_version: number;
  pid: number;
  python: { executable: string; version: string };
  torch: { version: string; threads: number };
  /** `version` is the CUDA torch was built with (null for CPU-only builds), whether or not a GPU is present. */
  cuda: { available: boolean; version: string | null; device_count: number };
  device: {
    type: 'cuda' | 'mps' | 'cpu';
    name: string;
    /** GPU memory for cuda, system memory otherwise; null when unknown. */
    total_memory_bytes: number | null;
    /** bf16 runs natively (fast) on this device. */
    bf16: boolean;
  };
  packages: { specialize_trainer: string; transformers: string | null; sentence_transformers: string | null };
  /** Implemented methods (not stubs, not debug/*). */
  methods: string[];
}

/** Common to teacher/score, train/run and model/export; each method's own fields arrive with it. */
export interface RunDirParams {
  run_dir: string;
}

/** Test and diagnostics only: sleeps `seconds` in `steps` steps, reporting progress after each. */
export interface DebugSleepParams {
  seconds?: number;
  steps?: number;
}

export interface DebugSleepResult {
  steps_done: number;
  seconds: number;
}

export interface ProgressParams {
  /** JSON-RPC id and method of the request that reports (null outside a request). */
  request_id: number | string | null;
  method: string | null;
  stage: string;
  step: number;
  total: number;
  /** Loss terms by name; non-finite values arrive as null. */
  loss?: Record<string, number | null>;
  lr?: number | null;
  /** Items per second, of `throughput_unit`. */
  throughput?: number | null;
  throughput_unit?: string;
  eta_seconds?: number | null;
  message?: string;
}

export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'critical';

export interface LogParams {
  level: LogLevel;
  logger: string;
  message: string;
  /** Seconds since the epoch. */
  time: number;
}

export const InitializeRequest = new RequestType<InitializeParams, InitializeResult, void>('initialize');
export const ShutdownRequest = new RequestType0<null, void>('shutdown');
/** Not implemented yet on the Python side: answers TrainerErrorCodes.NotImplementedYet. */
export const TeacherScoreRequest = new RequestType<RunDirParams, unknown, void>('teacher/score');
/** Not implemented yet on the Python side: answers TrainerErrorCodes.NotImplementedYet. */
export const TrainRunRequest = new RequestType<RunDirParams, unknown, void>('train/run');
/** Not implemented yet on the Python side: answers TrainerErrorCodes.NotImplementedYet. */
export const ModelExportRequest = new RequestType<RunDirParams, unknown, void>('model/export');
/** Test and diagnostics only. */
export const DebugSleepRequest = new RequestType<DebugSleepParams, DebugSleepResult, void>('debug/sleep');
/** Test and diagnostics only: the trainer exits at once with code 3, without answering. */
export const DebugCrashRequest = new RequestType0<null, void>('debug/crash');

export const ExitNotification = new NotificationType0('exit');
/** Plain names, not `$/progress`: vscode-jsonrpc routes `$/progress` to its token-based handlers. */
export const ProgressNotification = new NotificationType<ProgressParams>('progress');
export const LogNotification = new NotificationType<LogParams>('log');
