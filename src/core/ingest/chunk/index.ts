import type { Chunk, ChunkOptions, SourceFile } from '../types';
import { chunkAsciiDoc } from './asciidoc';
import { chunkCode } from './code/chunkCode';
import { describeKind, grammarFor, type ContentKind } from './kinds';
import { chunkLineWindows } from './lineWindows';
import { chunkMarkdown } from './markdown';
import { chunkNotebook } from './notebook';
import { chunkRst } from './rst';
import { chunkText } from './text';

export { describeKind, type ContentKind } from './kinds';
export { chunkAsciiDoc } from './asciidoc';
export { chunkCode } from './code/chunkCode';
export { chunkLineWindows } from './lineWindows';
export { chunkMarkdown } from './markdown';
export { chunkNotebook } from './notebook';
export { chunkRst } from './rst';
export { chunkText } from './text';

/**
 * Cuts one file into passages with the chunker its name calls for (see `describeKind`). Bad
 * content never throws: a chunker that fails on it is replaced by line windows, which read no
 * structure. (An exception from `options.countTokens` itself is not content, and is not hidden.)
 */
export async function chunkFile(file: SourceFile, options: ChunkOptions): Promise<Chunk[]> {
  const kind = describeKind(file.path);
  try {
    return await chunkByKind(file, kind, options);
  } catch {
    return chunkLineWindows(file, options);
  }
}

function chunkByKind(file: SourceFile, kind: ContentKind, options: ChunkOptions): Chunk[] | Promise<Chunk[]> {
  switch (kind) {
    case 'markdown':
      return chunkMarkdown(file, options);
    case 'rst':
      return chunkRst(file, options);
    case 'asciidoc':
      return chunkAsciiDoc(file, options);
    case 'notebook':
      return chunkNotebook(file, options);
    case 'text':
      return chunkText(file, options);
    default: {
      const grammar = grammarFor(file.path);
      return grammar ? chunkCode(file, grammar, options) : chunkLineWindows(file, options);
    }
  }
}
