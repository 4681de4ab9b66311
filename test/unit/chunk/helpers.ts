import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import type { Chunk, ChunkOptions, SourceFile } from '../../../src/core/ingest/types';
import { FOLDED_BODY } from '../../../src/core/ingest/chunk/code/classSummary';

const FIXTURES = path.resolve(__dirname, '../../fixtures/chunk');

/** Words and single punctuation marks: simple, predictable and additive, which tests need. */
export function countWords(text: string): number {
  return text.match(/[A-Za-z0-9_]+|[^\sA-Za-z0-9_]/g)?.length ?? 0;
}

export function options(maxTokens: number): ChunkOptions {
  return { maxTokens, countTokens: countWords };
}

/**
 * A fixture as the scanner would hand it over. Code fixtures are stored as `<name>.txt` so the
 * project's own type checker and linter leave them alone; the path drops that suffix.
 */
export function fixture(relative: string): SourceFile {
  const text = fs.readFileSync(path.join(FIXTURES, relative), 'utf8').replace(/\r\n?/g, '\n');
  return { root: FIXTURES, path: path.basename(relative).replace(/(\.\w+)\.txt$/, '$1'), text };
}

export function source(filePath: string, text: string): SourceFile {
  return { root: '/project', path: filePath, text };
}

/** [startLine, endLine, title] of each chunk: what most assertions compare. */
export function outline(chunks: readonly Chunk[]): [number, number, string][] {
  return chunks.map((chunk) => [chunk.startLine, chunk.endLine, chunk.title]);
}

export function fileLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Whether a chunk's text is exactly the file's lines startLine..endLine. */
export function isExactCopy(chunk: Chunk, lines: readonly string[]): boolean {
  return chunk.text === lines.slice(chunk.startLine - 1, chunk.endLine).join('\n');
}

/** Whether a chunk is a class summary: file lines in order, with folded bodies in between. */
export function isClassSummary(chunk: Chunk, lines: readonly string[]): boolean {
  let next = chunk.startLine - 1;
  for (const line of chunk.text.split('\n')) {
    if (line.trim() === FOLDED_BODY) continue;
    const at = lines.indexOf(line, next);
    if (at < 0 || at >= chunk.endLine) return false;
    next = at + 1;
  }
  return chunk.text.includes(FOLDED_BODY);
}

/** Whether a chunk is a part of one over-long line. */
export function isLinePart(chunk: Chunk, lines: readonly string[]): boolean {
  return chunk.startLine === chunk.endLine && (lines[chunk.startLine - 1] ?? '').includes(chunk.text);
}

/**
 * What every chunker promises: 1-based ranges inside the file, no passage over the limit, every
 * non-blank line in some passage, and texts that are the file's own lines (class summaries and
 * parts of over-long lines are the two documented exceptions; `allow` says which may occur).
 */
export function expectFaithful(file: SourceFile, chunks: readonly Chunk[], limits: ChunkOptions, allow: { summaries?: boolean; lineParts?: boolean } = {}): void {
  const lines = fileLines(file.text);
  for (const chunk of chunks) {
    expect(chunk.startLine).toBeGreaterThanOrEqual(1);
    expect(chunk.endLine).toBeGreaterThanOrEqual(chunk.startLine);
    expect(chunk.endLine).toBeLessThanOrEqual(lines.length);
    expect(limits.countTokens(chunk.text)).toBeLessThanOrEqual(limits.maxTokens);
    expect(chunk.title).not.toBe('');
    const allowed = isExactCopy(chunk, lines) || (allow.summaries === true && isClassSummary(chunk, lines)) || (allow.lineParts === true && isLinePart(chunk, lines));
    expect(allowed, `chunk ${chunk.startLine}-${chunk.endLine} "${chunk.title}" is not a copy of its lines`).toBe(true);
  }
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const covered = chunks.some((chunk) => chunk.startLine <= index + 1 && index + 1 <= chunk.endLine);
    expect(covered, `line ${index + 1} is in no passage`).toBe(true);
  });
}
