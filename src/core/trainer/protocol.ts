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

/** Common to teacher/score, train/run and model/export. */
export interface RunDirParams {
  run_dir: string;
}

/** A model member: a folder or Hugging Face id. */
export interface TeacherModelSpec {
  kind: 'cross-encoder' | 'bi-encoder';
  model: string;
  /** Prepended to queries; a bi-encoder without it takes the model's own `query` prompt. */
  query_prompt?: string;
}

/** BM25 scores that teacher_input.jsonl carries (`lexical`, one per candidate), computed with the whole index. */
export interface TeacherLexicalSpec {
  kind: 'lexical';
}

/** A teacher for teacher/score: a model, BM25 from the input, or an ensemble of such. */
export type TeacherScorerSpec =
  | TeacherModelSpec
  | TeacherLexicalSpec
  | { kind: 'ensemble'; members: (TeacherModelSpec | TeacherLexicalSpec)[]; /** One non-negative weight per member; equal when absent. */ weights?: number[] };

/**
 * teacher/score reads `run_dir/teacher_input.jsonl` (`{qid, query, type, candidates}` a line) and
 * `run_dir/passages.jsonl` (`{id, text}`), and writes `run_dir/teacher_scores.jsonl`
 * (`{qid, candidates, raw, scores}` a line, input order; `scores` normalised to [0, 1] per query type).
 * Resumable: finished shards in `run_dir/teacher/` are kept.
 */
export interface TeacherScoreParams extends RunDirParams {
  scorer: TeacherScorerSpec;
  /** Pairs per scorer call (default 64). */
  batch_size?: number;
  /** Queries per resumable shard (default 1024). */
  shard_size?: number;
  device?: 'auto' | 'cpu' | 'cuda';
}

export interface TeacherScoreResult {
  queries: number;
  pairs: number;
  seconds: number;
  /** Pairs scored by this call per second (resumed shards not counted). */
  pairs_per_second: number;
  /** Path of teacher_scores.jsonl. */
  output: string;
  resumed_shards: number;
}

/**
 * train/run reads `run_dir/train.jsonl` and `run_dir/dev.jsonl` (`{qid, query, candidates, scores}` a
 * line: candidates source first, at most 20, scores the normalised teacher scores aligned with them) and
 * `run_dir/passages.jsonl`, and writes the best student by dev loss as a sentence-transformers folder
 * to `run_dir/<output>`. `run_dir/checkpoints/last/` is written when cancelled; a later train/run on the
 * same run dir with the same settings resumes from it.
 */
export interface TrainRunParams extends RunDirParams {
  /** The student to tune: a sentence-transformers model folder. */
  student: string;
  /** Folder name inside run_dir for the tuned student (default "student"). */
  output?: string;
  /** Folder name inside run_dir for this training's checkpoints (default "checkpoints"). */
  checkpoints?: string;
  /** Passages are cut to this many tokens (default 512, or the model's own limit if lower). */
  passage_max_tokens?: number;
  mode?: 'combined' | 'infonce';
  /** Queries per optimiser step (default 4096). */
  batch_size?: number;
  /** Queries per forward pass inside a step (default: 64 for one process on a GPU, else the method's 16; GradCache makes it a matter of speed and memory, not of the result). */
  micro_batch?: number;
  lr?: number;
  weight_decay?: number;
  max_grad_norm?: number;
  epochs?: number;
  /** Epochs without a better dev loss before stopping early (default 2). */
  patience?: number;
  seed?: number;
  checkpoint_every?: number;
  /** Stop after this many optimiser steps in all (null: no limit). */
  max_steps?: number | null;
  device?: 'auto' | 'cpu' | 'cuda';
  listwise_weight?: number;
  contrastive_weight?: number;
  student_temperature?: number;
  teacher_temperature?: number;
  contrastive_temperature?: number;
  /** Null turns denoising off. */
  denoise_ratio?: number | null;
}

export interface TrainRunResult {
  /** Optimiser steps done in all, resumed ones included. */
  steps: number;
  epochs: number;
  best_dev_loss: number | null;
  dev_losses: number[];
  stopped: 'early' | 'max_epochs' | 'max_steps';
  /** The tuned student's folder (sentence-transformers). */
  output: string;
  seconds: number;
  queries_per_second: number | null;
  steps_per_epoch: number;
  warmup_steps: number;
  train_queries: number;
  dev_queries: number;
  /** The checkpoint step this call resumed from, null for a fresh run. */
  resumed_from_step: number | null;
  /** Queries per micro-batch at the end: lower than asked when an out-of-memory halved it. */
  micro_batch: number;
  /** Processes training together (torchrun ranks); 1 without torchrun. */
  world_size: number;
}

/**
 * model/export turns `run_dir/<model>` (a sentence-transformers folder) into `run_dir/<output>`: the
 * model's configs and tokenizer plus `onnx/model.onnx` (fp32) and `onnx/model_int8.onnx`, without
 * PyTorch weights, so resolveModel loads the ONNX directly. Refused (TrainerErrorCodes.Problem) when
 * parity with PyTorch falls below the thresholds; the previous export is then kept.
 */
export interface ModelExportParams extends RunDirParams {
  /** Folder name inside run_dir holding the tuned student (default "student"). */
  model?: string;
  /** Folder name inside run_dir for the export (default "export"). */
  output?: string;
  /** Also write and check an int8 model (default true). */
  int8?: boolean;
}

export interface ExportVariantReport {
  path: string;
  /** Cosine of ONNX and PyTorch embeddings over the parity texts (queries and passages). */
  min_cosine: number;
  mean_cosine: number;
  passed: boolean;
  /** fp32: `{min: 0.9999}`; int8: `{mean: 0.99, min: 0.97}`. */
  thresholds: { min?: number; mean?: number };
}

export interface ModelExportResult {
  /** The engine folder (configs, tokenizer, onnx/). */
  output: string;
  /** The sentence-transformers folder exported from. */
  model_dir: string;
  onnx_dir: string;
  /** Path of onnx/export.json, the full report. */
  report: string;
  exporter: string;
  opset: number;
  fp32: ExportVariantReport & { fused: boolean };
  int8: ExportVariantReport | null;
  seconds: number;
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
export const TeacherScoreRequest = new RequestType<TeacherScoreParams, TeacherScoreResult, void>('teacher/score');
export const TrainRunRequest = new RequestType<TrainRunParams, TrainRunResult, void>('train/run');
export const ModelExportRequest = new RequestType<ModelExportParams, ModelExportResult, void>('model/export');
/** Test and diagnostics only. */
export const DebugSleepRequest = new RequestType<DebugSleepParams, DebugSleepResult, void>('debug/sleep');
/** Test and diagnostics only: the trainer exits at once with code 3, without answering. */
export const DebugCrashRequest = new RequestType0<null, void>('debug/crash');

export const ExitNotification = new NotificationType0('exit');
/** Plain names, not `$/progress`: vscode-jsonrpc routes `$/progress` to its token-based handlers. */
export const ProgressNotification = new NotificationType<ProgressParams>('progress');
export const LogNotification = new NotificationType<LogParams>('log');
