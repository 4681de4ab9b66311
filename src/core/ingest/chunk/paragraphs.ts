import type { Chunk } from '../types';
import type { Budget } from './budget';
import { isBlank, spanText, trimSpan, type LineTable, type Span } from './lines';
import { fitSpan, splitByLines } from './split';

/** Whether a blank line may end a paragraph; false inside code fences and front matter. */
export type BreakRule = (index: number) => boolean;

const anywhere: BreakRule = () => true;

/** Share of the target a paragraph may have and still be repeated at the start of the next passage. */
const OVERLAP_SHARE = 0.25;

/** Blank-line separated blocks of a span, with blank lines the rule forbids breaking at kept inside. */
export function paragraphSpans(table: LineTable, span: Span, canBreakAt: BreakRule = anywhere): Span[] {
  const paragraphs: Span[] = [];
  let start = -1;
  for (let index = span.start; index <= span.end; index += 1) {
    const breaks = isBlank(table.lines[index]) && canBreakAt(index);
    if (breaks) {
      if (start >= 0) pushTrimmed(table, { start, end: index - 1 }, paragraphs);
      start = -1;
    } else if (start < 0) {
      start = index;
    }
  }
  if (start >= 0) pushTrimmed(table, { start, end: span.end }, paragraphs);
  return paragraphs;
}

function pushTrimmed(table: LineTable, span: Span, into: Span[]): void {
  const trimmed = trimSpan(table, span);
  if (trimmed) into.push(trimmed);
}

interface Paragraph {
  span: Span;
  tokens: number;
  /** Paragraphs counted apart to make up `tokens` (1 for a single paragraph). */
  parts: number;
}

/**
 * Splits a long section into passages of whole paragraphs near the target size. Each passage
 * after the first starts with the last paragraph of the one before when that paragraph is short,
 * so an idea that straddles the cut is still found whole. A paragraph too big on its own is cut
 * into lines.
 */
export function splitOnParagraphs(table: LineTable, span: Span, budget: Budget, title: string, canBreakAt: BreakRule = anywhere): Chunk[] {
  const paragraphs: Paragraph[] = paragraphSpans(table, span, canBreakAt).map((p) => ({ span: p, tokens: budget.count(spanText(table, p)), parts: 1 }));
  const overlapLimit = Math.floor(budget.target * OVERLAP_SHARE);
  const chunks: Chunk[] = [];
  let run: Paragraph[] = [];
  let current: { first: number; last: number; tokens: number } | undefined;

  const close = () => {
    const first = current && paragraphs[current.first];
    const last = current && paragraphs[current.last];
    if (current && first && last) run.push({ span: { start: first.span.start, end: last.span.end }, tokens: current.tokens, parts: current.last - current.first + 1 });
    current = undefined;
  };
  const flushRun = () => {
    close();
    for (const piece of mergeTinyTail(table, run, budget)) chunks.push(...fitSpan(table, piece.span, budget, title, { tokens: piece.tokens, joins: piece.parts - 1 }));
    run = [];
  };

  paragraphs.forEach((paragraph, index) => {
    if (paragraph.tokens > budget.max) {
      // A short lead (the heading line, an intro sentence) opens the long paragraph's pieces.
      const lead = current && current.tokens < budget.min ? paragraphs[current.first] : undefined;
      if (lead) current = undefined;
      flushRun();
      chunks.push(...splitByLines(table, { start: lead?.span.start ?? paragraph.span.start, end: paragraph.span.end }, budget, title));
      return;
    }
    if (current && current.tokens + paragraph.tokens <= budget.target) {
      current = { ...current, last: index, tokens: current.tokens + paragraph.tokens };
      return;
    }
    const before = current;
    close();
    const carried = before && before.last > before.first ? paragraphs[before.last] : undefined;
    if (before && carried && carried.tokens <= overlapLimit && carried.tokens + paragraph.tokens <= budget.target) {
      current = { first: before.last, last: index, tokens: carried.tokens + paragraph.tokens };
    } else {
      current = { first: index, last: index, tokens: paragraph.tokens };
    }
  });
  flushRun();
  return chunks;
}

/** A last passage too small to stand alone is folded into the one before when both fit. */
function mergeTinyTail(table: LineTable, pieces: Paragraph[], budget: Budget): Paragraph[] {
  const last = pieces[pieces.length - 1];
  const before = pieces[pieces.length - 2];
  if (!last || !before || last.tokens >= budget.min) return pieces;
  const span = { start: before.span.start, end: last.span.end };
  // With overlap the two share a paragraph, so the sum overestimates: safe for deciding that it fits.
  const estimate = before.tokens + last.tokens;
  const parts = before.parts + last.parts;
  if (budget.fits(estimate, parts - 1)) return [...pieces.slice(0, -2), { span, tokens: estimate, parts }];
  const tokens = budget.count(spanText(table, span));
  return tokens <= budget.max ? [...pieces.slice(0, -2), { span, tokens, parts: 1 }] : pieces;
}
