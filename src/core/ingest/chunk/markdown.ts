import type { Chunk, ChunkOptions, SourceFile } from '../types';
import { makeBudget } from './budget';
import { fileLineTable, isBlank, withoutCarriageReturns } from './lines';
import { chunkOutline, type Heading, type Outline } from './sections';

const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})(.*)$/;
/** Lines that start a list item, a quote or a table row: a "---" under them is not a heading. */
const NOT_A_SETEXT_TITLE = /^ {0,3}([-*+][ \t]|\d{1,9}[.)][ \t]|>|\|)/;
const INDENTED_CODE = /^( {4}|\t)/;

/** Markdown passages by heading hierarchy (ATX and setext), ignoring code fences and front matter. */
export function chunkMarkdown(file: SourceFile, options: ChunkOptions): Chunk[] {
  const table = fileLineTable(file.text);
  return chunkOutline(table, markdownOutline(withoutCarriageReturns(table.lines)), makeBudget(options), file.path);
}

/**
 * Finds the headings of a Markdown text, following CommonMark where it matters for titles: ATX
 * headings indented at most three spaces, setext underlines under a paragraph, nothing inside
 * code fences (so a `# comment` in a shell snippet stays code), HTML comments or YAML/TOML front
 * matter (whose closing `---` would otherwise read as a setext underline).
 */
export function markdownOutline(lines: readonly string[]): Outline {
  const headings: Heading[] = [];
  const protectedLines = new Set<number>();
  let index = skipFrontMatter(lines, protectedLines);
  let fence: { marker: string; length: number } | undefined;
  let inHtmlComment = false;
  let paragraphStart = -1;

  for (; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    if (fence) {
      protectedLines.add(index);
      if (closesFence(line, fence)) fence = undefined;
      continue;
    }
    if (inHtmlComment) {
      protectedLines.add(index);
      if (line.includes('-->')) inHtmlComment = false;
      continue;
    }
    const fenceOpen = FENCE_OPEN.exec(line);
    if (fenceOpen?.[1] && !(fenceOpen[1].startsWith('`') && fenceOpen[2]?.includes('`'))) {
      fence = { marker: fenceOpen[1].charAt(0), length: fenceOpen[1].length };
      protectedLines.add(index);
      paragraphStart = -1;
      continue;
    }
    if (/^ {0,3}<!--/.test(line) && !line.includes('-->')) {
      inHtmlComment = true;
      protectedLines.add(index);
      paragraphStart = -1;
      continue;
    }
    if (isBlank(line)) {
      paragraphStart = -1;
      continue;
    }
    const atx = ATX_HEADING.exec(line);
    if (atx?.[1]) {
      headings.push({ line: index, level: atx[1].length, title: cleanTitle(atx[2] ?? '') });
      paragraphStart = -1;
      continue;
    }
    const underline = SETEXT_UNDERLINE.exec(line);
    if (underline?.[1] && paragraphStart >= 0 && !NOT_A_SETEXT_TITLE.test(lines[paragraphStart] ?? '')) {
      const title = lines.slice(paragraphStart, index).map((l) => l.trim()).join(' ');
      headings.push({ line: paragraphStart, level: underline[1].startsWith('=') ? 1 : 2, title: cleanTitle(title) });
      paragraphStart = -1;
      continue;
    }
    // An indented line after a blank one is a code block, which cannot be a heading's title.
    if (paragraphStart < 0 && !INDENTED_CODE.test(line)) paragraphStart = index;
  }
  return { headings, canBreakAt: (index) => !protectedLines.has(index) };
}

/** Index of the first line after YAML (`---`) or TOML (`+++`) front matter; 0 when there is none. */
function skipFrontMatter(lines: readonly string[], protectedLines: Set<number>): number {
  const opening = lines[0]?.trimEnd();
  if (opening !== '---' && opening !== '+++') return 0;
  for (let index = 1; index < lines.length; index += 1) {
    const line = lines[index]?.trimEnd();
    if (line === opening || (opening === '---' && line === '...')) {
      for (let covered = 0; covered <= index; covered += 1) protectedLines.add(covered);
      return index + 1;
    }
  }
  return 0;
}

function closesFence(line: string, fence: { marker: string; length: number }): boolean {
  const match = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(line);
  return !!match?.[1] && match[1].charAt(0) === fence.marker && match[1].length >= fence.length;
}

/** Heading text as a reader sees it: links and images reduced to their text, tags dropped. */
export function cleanTitle(text: string): string {
  return text
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
