import * as fs from 'node:fs';
import * as path from 'node:path';
import { isOutOfSpace, SpecializeError, throwIfAborted } from '../errors';
import { writeJsonAtomic } from '../util/atomic';

/** Bump when a stage's files change in a way older runs cannot be resumed from. */
export const RUN_FORMAT = 1;
const RUN_FILE = 'run.json';
const STAGES_DIR = 'stages';

interface RunFile {
  kind: 'specialize-tune-run';
  format: number;
  created: string;
  /** What the run was started with; a resume with other settings would mix two runs' data. */
  settings: Record<string, unknown>;
}

/**
 * A tuning run's folder: `run.json` (format and settings) and one `stages/<name>.json` per finished
 * stage, written atomically after the stage's own files. A stage whose record exists is skipped on a
 * rerun, so a killed run resumes at the stage in flight, and a finished one only reports.
 */
export class RunDirectory {
  private constructor(readonly dir: string) {}

  /** Opens (or starts) the run in `dir`; refuses a run of another format or with other settings. */
  static async open(dir: string, settings: Record<string, unknown>): Promise<RunDirectory> {
    const file = path.join(dir, RUN_FILE);
    const existing = readRunFile(file);
    if (existing) {
      if (existing.format !== RUN_FORMAT) {
        throw new SpecializeError(
          `The run folder ${dir} was written by another version of Specialize (run format ${existing.format}; this version reads format ${RUN_FORMAT}).`,
          `Start a new run with --fresh (the old folder is kept as ${path.basename(dir)}.old-…), or finish it with the version that started it.`,
          'run-mismatch',
        );
      }
      const changed = changedSettings(existing.settings, settings);
      if (changed.length > 0) {
        throw new SpecializeError(
          `The run folder ${dir} was started with other settings (${changed.join('; ')}).`,
          'Run again with the same settings to resume it, or pass --fresh to start a new run (the old folder is kept).',
          'run-mismatch',
        );
      }
      return new RunDirectory(dir);
    }
    await fs.promises.mkdir(path.join(dir, STAGES_DIR), { recursive: true });
    const run: RunFile = { kind: 'specialize-tune-run', format: RUN_FORMAT, created: new Date().toISOString(), settings };
    await writeJsonAtomic(file, run);
    return new RunDirectory(dir);
  }

  /** Moves an existing run folder aside (to `<dir>.old-<time>`) so a fresh run starts; returns where it went. */
  static async setAside(dir: string): Promise<string | undefined> {
    if (!fs.existsSync(dir)) return undefined;
    const aside = `${dir}.old-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await fs.promises.rename(dir, aside);
    return aside;
  }

  path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  /** The recorded result of a finished stage, or undefined. */
  finished<T>(name: string): T | undefined {
    const file = this.stageFile(name);
    if (!fs.existsSync(file)) return undefined;
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { result: T }).result;
  }

  /**
   * Runs `stage` unless it finished before, records its result, and returns it. `onSkip` hears
   * about a stage that is skipped, so front ends can say so.
   */
  async stage<T>(name: string, run: () => Promise<T>, options: { signal?: AbortSignal; onSkip?: (name: string) => void } = {}): Promise<T> {
    const done = this.finished<T>(name);
    if (done !== undefined) {
      options.onSkip?.(name);
      return done;
    }
    throwIfAborted(options.signal, `stage ${name}`);
    const started = performance.now();
    try {
      const result = await run();
      throwIfAborted(options.signal, `stage ${name}`);
      await writeJsonAtomic(this.stageFile(name), { stage: name, finished: new Date().toISOString(), seconds: (performance.now() - started) / 1000, result });
      return result;
    } catch (error) {
      if (!isOutOfSpace(error)) throw error;
      // The stage is not recorded, so a rerun redoes it from its own files; earlier stages stay done.
      throw new SpecializeError(
        `The disk is full: stage ${name} could not write ${error.path ?? 'its files'} (${error.code}).`,
        `Free space on the disk that holds ${this.dir} and run the same command again: the run resumes at stage ${name}, and the active model is unchanged.`,
        'disk-full',
      );
    }
  }

  private stageFile(name: string): string {
    return path.join(this.dir, STAGES_DIR, `${name}.json`);
  }
}

/**
 * `name: before → now` for each setting that differs, nested objects (the budget) field by field so
 * the message names the one that changed. A field only the earlier run recorded is one this version
 * no longer has (the budget's micro-batch, now the trainer's own choice): it cannot change what this
 * version does, so it does not stop a resume after an upgrade. A field this version adds does.
 */
export function changedSettings(before: Record<string, unknown>, now: Record<string, unknown>, prefix = ''): string[] {
  return Object.keys(now).flatMap((key) => {
    const [old, current] = [before[key], now[key]];
    if (isPlainObject(old) && isPlainObject(current)) return changedSettings(old, current, `${prefix}${key}.`);
    return JSON.stringify(old) === JSON.stringify(current) ? [] : [`${prefix}${key}: ${JSON.stringify(old) ?? 'not set'} → ${JSON.stringify(current) ?? 'not set'}`];
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readRunFile(file: string): RunFile | undefined {
  if (!fs.existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SpecializeError(`${file} is not valid JSON (${(error as Error).message}).`, 'Start a new run with --fresh; the damaged folder is kept aside.', 'store-invalid');
  }
  const run = parsed as Partial<RunFile>;
  if (run.kind !== 'specialize-tune-run' || typeof run.format !== 'number' || typeof run.settings !== 'object' || run.settings === null) {
    throw new SpecializeError(`${file} is not a Specialize run file.`, 'Point --run at a run folder made by `specialize tune`, or pass --fresh.', 'store-invalid');
  }
  return run as RunFile;
}
