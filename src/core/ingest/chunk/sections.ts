import type { Chunk } from '../types';
import type { Budget } from './budget';
import type { LineTable, Span } from './lines';
import { listTitles, packUnits, type LineUnit } from './pack';
import { splitOnParagraphs, type BreakRule } from './paragraphs';

/** A heading found by a markup scanner. */
export interface Heading {
  /** 0-based index of the first line of the heading (an RST overline, a setext paragraph). */
  line: number;
  /** Nesting depth: larger is deeper. Only the order matters, not the numbers themselves. */
  level: number;
  title: string;
}

/** What a markup scanner found in a document. */
export interface Outline {
  headings: readonly Heading[];
  /** Where a long section may be split; blank lines inside code blocks must not be used. */
  canBreakAt?: BreakRule;
}

interface Section extends LineUnit {
  /** Titles of the enclosing headings, outermost first; empty before the first heading. */
  path: readonly string[];
}

/** Titles of nested headings are joined into one path, like a breadcrumb. */
export const PATH_SEPARATOR = ' > ';

/**
 * Chunks a document by its heading hierarchy: each section (a heading and the text up to the next
 * heading) is titled by its heading path; small neighbouring sections are merged, and a section
 * too long for one passage is split on paragraphs with a little overlap.
 */
export function chunkOutline(table: LineTable, outline: Outline, budget: Budget, fallbackTitle: string): Chunk[] {
  const sections = sectionsOf(table, outline.headings, fallbackTitle);
  return packUnits(table, sections, budget, {
    groupTitle: (units) => groupTitle(units, fallbackTitle),
    splitOversize: (section) => splitOnParagraphs(table, section.span, budget, section.title, outline.canBreakAt),
    // A parent heading (or the text before the first heading) may open its long subsection.
    leadsInto: (small, big) => small.every((section) => isPrefix(section.path, big.path)),
    // Passages stay within one top-level section when they can: "Install | Usage" reads worse.
    canJoin: (group, next) => commonPrefix([...group.map((s) => s.path), next.path]).length > 0 || next.path.length === 0 || group.every((s) => s.path.length === 0),
  });
}

function sectionsOf(table: LineTable, headings: readonly Heading[], fallbackTitle: string): Section[] {
  const sections: Section[] = [];
  const lastLine = table.lines.length - 1;
  const firstHeading = headings[0]?.line ?? lastLine + 1;
  if (firstHeading > 0) sections.push({ span: { start: 0, end: firstHeading - 1 }, title: fallbackTitle, path: [] });
  const open: Heading[] = [];
  headings.forEach((heading, index) => {
    while (open.length > 0 && (open[open.length - 1]?.level ?? 0) >= heading.level) open.pop();
    open.push(heading);
    const path = open.map((h) => h.title);
    const span: Span = { start: heading.line, end: (headings[index + 1]?.line ?? lastLine + 1) - 1 };
    sections.push({ span, title: path.join(PATH_SEPARATOR) || fallbackTitle, path });
  });
  return sections;
}

/** The deepest heading that encloses every merged section; else the outermost headings in it. */
function groupTitle(sections: readonly Section[], fallbackTitle: string): string {
  const common = commonPrefix(sections.map((s) => s.path));
  if (common.length > 0) return common.join(PATH_SEPARATOR);
  return listTitles(
    sections.flatMap((s) => (s.path[0] === undefined ? [] : [s.path[0]])),
    ' | ',
    fallbackTitle,
  );
}

function isPrefix(prefix: readonly string[], path: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((title, index) => path[index] === title);
}

function commonPrefix(paths: readonly (readonly string[])[]): readonly string[] {
  // Text before the first heading belongs to no heading; it does not break what the rest share.
  const titled = paths.filter((p) => p.length > 0);
  const [first, ...rest] = titled;
  if (!first) return [];
  let length = first.length;
  for (const path of rest) {
    let same = 0;
    while (same < length && same < path.length && path[same] === first[same]) same += 1;
    length = same;
  }
  return first.slice(0, length);
}
