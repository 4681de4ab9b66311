import type { Chunk } from '../types';

/**
 * The lines a chunker cuts passages from, each with the 1-based file line it came from. For most
 * files this is simply the file; notebooks and class summaries build their own (cell sources, a
 * class with its method bodies folded) and still point every line back into the file.
 */
export interface LineTable {
  readonly lines: readonly string[];
  /** 1-based file line of `lines[index]`. */
  lineNumber(index: number): number;
}

/** A run of lines of a table: 0-based indexes, inclusive at both ends. */
export interface Span {
  start: number;
  end: number;
}

/**
 * Splits on "\n" only: the scanner has already normalised newlines, and a stray "\r" kept inside a
 * line is harmless, whereas treating it as a break would shift every line number after it.
 */
export function fileLineTable(text: string): LineTable {
  const lines = text.split('\n');
  // A final newline ends the last line; it does not start an empty one.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return { lines, lineNumber: (index) => index + 1 };
}

/** A table whose lines come from anywhere, each with its own file line number. */
export function mappedLineTable(lines: readonly string[], lineNumbers: readonly number[]): LineTable {
  return { lines, lineNumber: (index) => lineNumbers[index] ?? 1 };
}

/**
 * Lines as markup scanners should see them: a "\r" left by an unnormalised CRLF file would keep
 * `# Title\r` from reading as a heading (a regex `.` does not match it).
 */
export function withoutCarriageReturns(lines: readonly string[]): string[] {
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

export function isBlank(line: string | undefined): boolean {
  return line === undefined || line.trim() === '';
}

/** The span without blank lines at either end, or undefined when it holds only blank lines. */
export function trimSpan(table: LineTable, span: Span): Span | undefined {
  let { start, end } = span;
  while (start <= end && isBlank(table.lines[start])) start += 1;
  while (end >= start && isBlank(table.lines[end])) end -= 1;
  return start <= end ? { start, end } : undefined;
}

export function spanText(table: LineTable, span: Span): string {
  return table.lines.slice(span.start, span.end + 1).join('\n');
}

export function spanChunk(table: LineTable, span: Span, title: string): Chunk {
  return { text: spanText(table, span), startLine: table.lineNumber(span.start), endLine: table.lineNumber(span.end), title };
}

/** Leading whitespace of a line. */
export function indentation(line: string): string {
  return /^[ \t]*/.exec(line)?.[0] ?? '';
}
