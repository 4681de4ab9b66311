import * as fs from 'node:fs';
import { SpecializeError } from '../errors';
import { writeFileAtomic } from '../util/atomic';

/** Reads a JSON-lines file a previous stage wrote; a damaged line names the file and line. */
export function readJsonLines<T>(file: string): T[] {
  if (!fs.existsSync(file)) throw new SpecializeError(`${file} is missing.`, 'Run `specialize tune` again with --fresh to rebuild the run.', 'not-found');
  const rows: T[] = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (!line.trim()) return;
      try {
        rows.push(JSON.parse(line) as T);
      } catch {
        throw new SpecializeError(`${file}, line ${index + 1} is not valid JSON.`, 'Run `specialize tune` again with --fresh to rebuild the run.', 'store-invalid');
      }
    });
  return rows;
}

export async function writeJsonLines(file: string, rows: readonly unknown[]): Promise<void> {
  await writeFileAtomic(file, rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
}
