import type { Command } from 'commander';
import type { Precision } from '../core/embed/embedder';
import type { ScanOptions } from '../core/ingest/types';
import { DEFAULT_MODEL_ID } from '../core/models/packaged';
import { oneOf, positiveInt } from './run';

/** The flags `index` and `watch` share: which model embeds, and which files are indexed. */
export interface IndexingFlags {
  model: string;
  precision: Precision;
  threads?: number;
  include: string[];
  exclude: string[];
  maxFileSize?: number;
  defaultIgnores: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function addIndexingOptions(command: Command): Command {
  return command
    .option('--model <id|dir>', 'embedding model: Hugging Face id or local folder', DEFAULT_MODEL_ID)
    .option('--precision <p>', 'fp32 or int8', oneOf('--precision', ['fp32', 'int8'] as const), 'fp32')
    .option('--threads <n>', 'onnxruntime threads (default: all cores)', positiveInt('--threads', 256))
    .option('--include <glob>', 'only index files matching this gitignore-style pattern (repeatable)', collect, [])
    .option('--exclude <glob>', 'never index files matching this gitignore-style pattern (repeatable)', collect, [])
    .option('--max-file-size <bytes>', 'skip larger files (default 1000000)', positiveInt('--max-file-size'))
    .option('--no-default-ignores', 'also scan node_modules, dist, build, .venv, … when no ignore file excludes them');
}

export function scanOptionsFromFlags(flags: IndexingFlags): ScanOptions {
  return {
    ...(flags.include.length ? { include: flags.include } : {}),
    ...(flags.exclude.length ? { exclude: flags.exclude } : {}),
    ...(flags.maxFileSize !== undefined ? { maxFileBytes: flags.maxFileSize } : {}),
    defaultIgnores: flags.defaultIgnores,
  };
}

/** Model options for WorkspaceIndex / indexFolders. */
export function modelOptionsFromFlags(flags: IndexingFlags): { model: string; precision: Precision; threads?: number } {
  return { model: flags.model, precision: flags.precision, ...(flags.threads ? { threads: flags.threads } : {}) };
}
