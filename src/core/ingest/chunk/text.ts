import type { Chunk, ChunkOptions, SourceFile } from '../types';
import { makeBudget } from './budget';
import { fileLineTable } from './lines';
import { chunkOutline } from './sections';

/**
 * Plain text by paragraphs: blank-line separated blocks grouped up to the target size (a long
 * text is one untitled section, split on paragraphs like any long section). Titled by the path.
 */
export function chunkText(file: SourceFile, options: ChunkOptions): Chunk[] {
  const table = fileLineTable(file.text);
  return chunkOutline(table, { headings: [] }, makeBudget(options), file.path);
}
