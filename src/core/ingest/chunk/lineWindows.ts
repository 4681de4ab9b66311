import type { Chunk, ChunkOptions, SourceFile } from '../types';
import { makeBudget } from './budget';
import { fileLineTable } from './lines';
import { splitByLines } from './split';

/** Window size and overlap for files without a structure we can read. */
export const WINDOW_LINES = 40;
export const WINDOW_OVERLAP_LINES = 5;

/**
 * Windows of up to 40 lines (fewer when the token target is reached first) repeating 5 lines of
 * the previous window, ending at a blank line where one is near. Used for languages without a
 * grammar and whenever a grammar cannot be loaded; it reads nothing, so it cannot fail on content.
 */
export function chunkLineWindows(file: SourceFile, options: ChunkOptions): Chunk[] {
  const table = fileLineTable(file.text);
  if (table.lines.length === 0) return [];
  return splitByLines(table, { start: 0, end: table.lines.length - 1 }, makeBudget(options), file.path, {
    maxLines: WINDOW_LINES,
    overlapLines: WINDOW_OVERLAP_LINES,
  });
}
