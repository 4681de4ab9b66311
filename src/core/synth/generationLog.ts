import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpecializeError } from '../errors';
import { ensureDir } from '../util/ensureDir';
import { sha256Hex } from '../util/hash';

/** One completed LLM request and what the parser made of it. */
export interface GenerationRecord {
  key: string;
  passage_id: string;
  passage_hash: string;
  type: string;
  /** Which of the passage's queries of this type (0-based; --per-type N asks N times). */
  n: number;
  prompt_version: string;
  model: string;
  split: 'train' | 'heldout';
  raw: string;
  /** The parsed query, or null when the parser rejected the answer (see `reason`). */
  query: string | null;
  reason: string | null;
  prompt_tokens: number;
  completion_tokens: number;
}

/** The cache key: a rerun, or a resumed run, never asks the same thing twice. */
export function generationKey(parts: { passageHash: string; type: string; n: number; promptVersion: string; model: string }): string {
  return sha256Hex(JSON.stringify([parts.passageHash, parts.type, parts.n, parts.promptVersion, parts.model])).slice(0, 32);
}

/**
 * Every completed request, appended to a JSON Lines file and fsynced per batch, so a crash or a
 * kill loses at most the batch being written — and a torn last line from such a kill is cut off
 * when the log is opened again. Paid-for answers are never thrown away: the log is append-only.
 */
export class GenerationLog {
  private readonly byKey = new Map<string, GenerationRecord>();

  private constructor(
    readonly file: string,
    private readonly fd: number,
  ) {}

  static async open(file: string): Promise<GenerationLog> {
    await ensureDir(path.dirname(file));
    const records = readRecords(file);
    const fd = fs.openSync(file, 'a');
    const log = new GenerationLog(file, fd);
    for (const record of records) log.byKey.set(record.key, record);
    return log;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  get size(): number {
    return this.byKey.size;
  }

  records(): GenerationRecord[] {
    return [...this.byKey.values()];
  }

  /** Appends and fsyncs: when this returns, the records survive a crash. */
  append(records: readonly GenerationRecord[]): void {
    if (records.length === 0) return;
    const fresh = records.filter((record) => !this.byKey.has(record.key));
    if (fresh.length === 0) return;
    fs.writeSync(this.fd, fresh.map((record) => `${JSON.stringify(record)}\n`).join(''));
    fs.fsyncSync(this.fd);
    for (const record of fresh) this.byKey.set(record.key, record);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/**
 * Reads the log, dropping an unterminated last line (a write cut short by a kill) and truncating
 * the file to its last complete line so later appends start clean. A malformed line elsewhere is
 * damage, not a torn write: it stops with the line number rather than silently losing records.
 */
function readRecords(file: string): GenerationRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const complete = text.lastIndexOf('\n') + 1;
  if (complete < text.length) fs.truncateSync(file, Buffer.byteLength(text.slice(0, complete)));
  const records: GenerationRecord[] = [];
  const lines = text.slice(0, complete).split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] as string;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new SpecializeError(
        `${file} line ${index + 1} is not valid JSON: the generation log is damaged.`,
        'Remove that line (its query will be generated again) or delete the file to start over.',
      );
    }
    const record = value as Partial<GenerationRecord>;
    if (typeof record.key !== 'string' || typeof record.passage_id !== 'string' || typeof record.type !== 'string') {
      throw new SpecializeError(`${file} line ${index + 1} is not a generation record.`, 'Point --out at a folder of its own; this file was written by something else.');
    }
    records.push(record as GenerationRecord);
  }
  return records;
}
