import type { Chunk, ChunkOptions, SourceFile } from '../types';
import { makeBudget } from './budget';
import { fileLineTable, withoutCarriageReturns } from './lines';
import { cleanTitle } from './markdown';
import { chunkOutline, type Heading, type Outline } from './sections';

/** `= Document`, `== Section`, … (or Markdown-style `#`), optionally closed by the same marks. */
const SECTION_TITLE = /^(={1,6}|#{1,6})[ \t]+(\S.*?)(?:[ \t]+\1)?[ \t]*$/;
/**
 * Delimiters of AsciiDoc blocks (listing, literal, passthrough, comment, example, sidebar, quote,
 * fenced code, tables). Nothing inside them is a section title: `== x` in a listing is code.
 */
const BLOCK_DELIMITER = /^(-{4,}|\.{4,}|\+{4,}|\/{4,}|={4,}|\*{4,}|_{4,}|`{3,}|[|,:!]={3,})[ \t]*$/;

/** AsciiDoc passages by section titles. */
export function chunkAsciiDoc(file: SourceFile, options: ChunkOptions): Chunk[] {
  const table = fileLineTable(file.text);
  return chunkOutline(table, asciiDocOutline(withoutCarriageReturns(table.lines)), makeBudget(options), file.path);
}

/**
 * Finds AsciiDoc section titles outside delimited blocks. The level is the number of marks, so the
 * document title (`=`) encloses everything. Legacy two-line (underlined) titles are not read:
 * Asciidoctor deprecated them, and their underlines clash with block delimiters.
 */
export function asciiDocOutline(lines: readonly string[]): Outline {
  const headings: Heading[] = [];
  const protectedLines = new Set<number>();
  let openBlock: string | undefined;
  lines.forEach((line, index) => {
    const trimmed = line.trimEnd();
    if (openBlock !== undefined) {
      protectedLines.add(index);
      if (trimmed === openBlock) openBlock = undefined;
      return;
    }
    if (BLOCK_DELIMITER.test(trimmed)) {
      openBlock = trimmed;
      protectedLines.add(index);
      return;
    }
    const title = SECTION_TITLE.exec(line);
    if (title?.[1] && title[2]) headings.push({ line: index, level: title[1].length, title: cleanTitle(title[2]) });
  });
  return { headings, canBreakAt: (index) => !protectedLines.has(index) };
}
