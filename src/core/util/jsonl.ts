import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { SpecializeError } from '../errors';

/**
 * Streams a JSON Lines file, yielding each parsed object with its 1-based line number.
 * A malformed line stops the read with an error that names the file and line, because silently
 * skipping data would make every figure computed from it wrong.
 */
export async function* readJsonLines(file: string): AsyncGenerator<{ value: Record<string, unknown>; line: number }> {
  const input = fs.createReadStream(file, { encoding: 'utf8' });
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const raw of lines) {
      line += 1;
      const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new SpecializeError(
          `${file} line ${line} is not valid JSON (${(error as Error).message}).`,
          'Fix or remove that line; every line must be one JSON object.',
        );
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new SpecializeError(`${file} line ${line} is not a JSON object.`, 'Each line must be one JSON object such as {"_id": "...", "text": "..."}.');
      }
      yield { value: value as Record<string, unknown>, line };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}
