import type { Chunk } from '../types';
import type { Budget } from './budget';
import { isBlank, spanChunk, spanText, trimSpan, type LineTable, type Span } from './lines';

export interface LineSplitOptions {
  /** Longest piece in lines (token limits still apply). Unlimited by default. */
  maxLines?: number;
  /** Lines each piece repeats from the end of the one before, so a thought cut in two keeps context. */
  overlapLines?: number;
}

interface Piece {
  span: Span;
  tokens: number;
}

/**
 * Cuts a span that is too big for one passage into pieces of whole lines, each at most `budget.max`
 * tokens (aiming at the target), preferring to cut at blank lines. A single line that is itself
 * too long is cut into parts of that line. Blank lines at the cuts are the only thing dropped.
 */
export function splitByLines(table: LineTable, span: Span, budget: Budget, title: string, options: LineSplitOptions = {}): Chunk[] {
  const maxLines = options.maxLines ?? Number.POSITIVE_INFINITY;
  const overlap = options.overlapLines ?? 0;
  const tokensOf = lineTokenCounter(table, budget);
  const chunks: Chunk[] = [];
  let pieces: Piece[] = [];
  // Pieces are collected and emitted in runs so the last one of a run can still be merged back.
  const flush = () => {
    emitPieces(table, mergeTinyTail(table, pieces, budget, maxLines), budget, title, chunks);
    pieces = [];
  };

  let index = span.start;
  while (index <= span.end) {
    while (index <= span.end && isBlank(table.lines[index])) index += 1;
    if (index > span.end) break;
    if (tokensOf(index) > budget.max) {
      flush();
      chunks.push(...splitLongLine(table.lines[index] ?? '', table.lineNumber(index), budget, title));
      index += 1;
      continue;
    }
    let next = index;
    let sum = 0;
    while (next <= span.end && tokensOf(next) <= budget.max && (next === index || (sum + tokensOf(next) <= budget.target && next - index < maxLines))) {
      sum += tokensOf(next);
      next += 1;
    }
    // Stopped by size rather than by the end: end at the last blank line of the second half if any.
    if (next <= span.end && tokensOf(next) <= budget.max) next = lastBlankCut(table, index, next);
    const piece = trimSpan(table, { start: index, end: next - 1 });
    if (piece) pieces.push({ span: piece, tokens: sumTokens(tokensOf, piece) });
    if (next > span.end) break;
    index = overlap > 0 && next - index > 2 * overlap ? next - overlap : next;
  }
  flush();
  return chunks;
}

/** Sum of the counts of texts counted apart, and how many line breaks join them. */
export interface Estimate {
  tokens: number;
  joins: number;
}

/**
 * One passage for the span when it fits, else whole-line pieces. An estimate from the counts of
 * its parts spares counting the span again when it leaves enough room.
 */
export function fitSpan(table: LineTable, span: Span, budget: Budget, title: string, estimate?: Estimate): Chunk[] {
  const chunk = spanChunk(table, span, title);
  if (estimate && budget.fits(estimate.tokens, estimate.joins)) return [chunk];
  return budget.count(chunk.text) <= budget.max ? [chunk] : splitByLines(table, span, budget, title);
}

/**
 * Cuts one line into parts of at most `budget.max` tokens, preferring to cut after whitespace and
 * never inside a surrogate pair. The parts concatenate back to the line exactly; all of them
 * carry the line's number.
 */
export function splitLongLine(line: string, lineNumber: number, budget: Budget, title: string): Chunk[] {
  const chunks: Chunk[] = [];
  const total = Math.max(1, budget.count(line));
  const charsPerToken = Math.max(1, line.length / total);
  let position = 0;
  while (position < line.length) {
    let end = cutPoint(line, position, Math.max(1, Math.floor(budget.target * charsPerToken)));
    let piece = line.slice(position, end);
    while (end - position > 1 && budget.count(piece) > budget.max) {
      end = cutPoint(line, position, Math.max(1, Math.floor((end - position) / 2)));
      piece = line.slice(position, end);
    }
    if (piece.trim() !== '') chunks.push({ text: piece, startLine: lineNumber, endLine: lineNumber, title });
    position = end;
  }
  return chunks;
}

/** Token count of each line, counted once and only when asked for. */
function lineTokenCounter(table: LineTable, budget: Budget): (index: number) => number {
  const counts = new Map<number, number>();
  return (index) => {
    let tokens = counts.get(index);
    if (tokens === undefined) {
      tokens = budget.count(table.lines[index] ?? '');
      counts.set(index, tokens);
    }
    return tokens;
  };
}

function sumTokens(tokensOf: (index: number) => number, span: Span): number {
  let sum = 0;
  for (let index = span.start; index <= span.end; index += 1) sum += tokensOf(index);
  return sum;
}

/** Index (exclusive end) to cut a window at: its last blank line in the second half, else `next`. */
function lastBlankCut(table: LineTable, start: number, next: number): number {
  const earliest = start + Math.ceil((next - start) / 2);
  for (let index = next - 1; index >= earliest; index -= 1) if (isBlank(table.lines[index])) return index;
  return next;
}

/** A last piece too small to stand alone joins the one before when both fit in one passage. */
function mergeTinyTail(table: LineTable, pieces: Piece[], budget: Budget, maxLines: number): Piece[] {
  const last = pieces[pieces.length - 1];
  const before = pieces[pieces.length - 2];
  if (!last || !before || last.tokens >= budget.min) return pieces;
  const merged = { start: before.span.start, end: last.span.end };
  if (merged.end - merged.start + 1 > maxLines) return pieces;
  // With overlap the two share lines, so the sum overestimates: safe for deciding that it fits.
  const estimate = before.tokens + last.tokens;
  const tokens = budget.fits(estimate, merged.end - merged.start) ? estimate : budget.count(spanText(table, merged));
  if (tokens > budget.max) return pieces;
  return [...pieces.slice(0, -2), { span: merged, tokens }];
}

/** Emits pieces, counting again those whose estimate leaves too little room to be sure. */
function emitPieces(table: LineTable, pieces: readonly Piece[], budget: Budget, title: string, chunks: Chunk[]): void {
  for (const piece of pieces) {
    if (budget.fits(piece.tokens, piece.span.end - piece.span.start)) chunks.push(spanChunk(table, piece.span, title));
    else emitChecked(table, piece.span, budget, title, chunks);
  }
}

function emitChecked(table: LineTable, span: Span, budget: Budget, title: string, chunks: Chunk[]): void {
  const chunk = spanChunk(table, span, title);
  if (budget.count(chunk.text) <= budget.max) {
    chunks.push(chunk);
  } else if (span.start === span.end) {
    chunks.push(...splitLongLine(chunk.text, chunk.startLine, budget, title));
  } else {
    const middle = span.start + Math.floor((span.end - span.start) / 2);
    for (const half of [trimSpan(table, { start: span.start, end: middle }), trimSpan(table, { start: middle + 1, end: span.end })]) {
      if (half) emitChecked(table, half, budget, title, chunks);
    }
  }
}

/** End (exclusive) of a part of `line` starting at `from`, about `length` characters long. */
function cutPoint(line: string, from: number, length: number): number {
  let end = Math.min(line.length, from + length);
  if (end >= line.length) return line.length;
  // Whole words read better, unless the only whitespace would leave a part less than half as long.
  const earliest = from + Math.floor(length / 2);
  for (let index = end - 1; index >= earliest; index -= 1) {
    const code = line.charCodeAt(index);
    if (code === 32 || code === 9) return index + 1;
  }
  if (isLowSurrogate(line.charCodeAt(end))) end -= 1;
  return end > from ? end : Math.min(line.length, from + 2);
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
