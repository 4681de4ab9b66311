import type { Chunk, ChunkOptions, SourceFile } from '../types';
import { makeBudget } from './budget';
import { fileLineTable, isBlank, withoutCarriageReturns } from './lines';
import { chunkOutline, type Heading, type Outline } from './sections';

/** A line made of one repeated punctuation character, starting at column 0. */
const ADORNMENT = /^([!-/:-@[-`{-~])\1*[ \t]*$/;
/** Docutils reads a shorter underline as a title only from four characters on. */
const SHORT_UNDERLINE_MIN = 4;

/** reStructuredText passages by section titles. */
export function chunkRst(file: SourceFile, options: ChunkOptions): Chunk[] {
  const table = fileLineTable(file.text);
  return chunkOutline(table, rstOutline(withoutCarriageReturns(table.lines)), makeBudget(options), file.path);
}

/**
 * Finds RST section titles: a title line underlined, or over- and underlined, with a punctuation
 * character. Levels are not fixed by the character: each new style (character, with or without
 * overline) is one level deeper than the styles seen before it, as docutils decides. A title
 * must follow a blank line (or another title), which keeps transitions and underlined paragraph
 * ends out, and underlines start at column 0, which keeps indented literal blocks out.
 */
export function rstOutline(lines: readonly string[]): Outline {
  const headings: Heading[] = [];
  const styles: string[] = [];
  const levelOf = (style: string) => {
    if (!styles.includes(style)) styles.push(style);
    return styles.indexOf(style) + 1;
  };
  // Titles start a block: at the top, after a blank line, or right after another title.
  let startsBlock = true;
  let index = 0;
  while (index < lines.length) {
    if (startsBlock) {
      const over = overlinedTitle(lines, index);
      if (over) {
        headings.push({ line: index, level: levelOf(`${over.char}/over`), title: over.title });
        index += 3;
        continue;
      }
      const under = underlinedTitle(lines, index);
      if (under) {
        headings.push({ line: index, level: levelOf(under.char), title: under.title });
        index += 2;
        continue;
      }
    }
    startsBlock = isBlank(lines[index]);
    index += 1;
  }
  return { headings };
}

function overlinedTitle(lines: readonly string[], index: number): { char: string; title: string } | undefined {
  const over = lines[index]?.trimEnd() ?? '';
  const text = lines[index + 1] ?? '';
  const under = lines[index + 2]?.trimEnd() ?? '';
  const match = ADORNMENT.exec(over);
  if (!match?.[1] || over !== under || isBlank(text) || ADORNMENT.test(text.trim())) return undefined;
  if (text.trim().length > over.length) return undefined;
  return { char: match[1], title: text.trim() };
}

function underlinedTitle(lines: readonly string[], index: number): { char: string; title: string } | undefined {
  const text = lines[index] ?? '';
  const under = lines[index + 1]?.trimEnd() ?? '';
  const match = ADORNMENT.exec(under);
  if (!match?.[1] || isBlank(text) || /^\s/.test(text) || ADORNMENT.test(text.trimEnd())) return undefined;
  const title = text.trim();
  if (under.length < title.length && under.length < SHORT_UNDERLINE_MIN) return undefined;
  return { char: match[1], title };
}
