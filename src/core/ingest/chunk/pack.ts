import type { Chunk } from '../types';
import type { Budget } from './budget';
import { spanChunk, spanText, trimSpan, type LineTable, type Span } from './lines';
import { splitByLines } from './split';

/** A piece of a file that makes sense on its own: a section, a symbol, a cell, a paragraph. */
export interface LineUnit {
  span: Span;
  title: string;
}

/** Passages already cut (a class summary, a section split with overlap): emitted as they are. */
export interface FixedPassages {
  fixed: readonly Chunk[];
}

export interface PackRules<U extends LineUnit> {
  /** Title of a passage made of several units. */
  groupTitle(units: readonly U[]): string;
  /** Cuts a unit that does not fit in one passage; defaults to whole-line pieces. */
  splitOversize?(unit: U): Chunk[];
  /**
   * Whether units too small to stand alone may lead into the big unit after them (which keeps its
   * title): imports before a class, a parent heading before a long subsection. Never by default.
   */
  leadsInto?(small: readonly U[], big: U): boolean;
  /**
   * Whether a unit may join the passage being filled (always by default). A passage that would
   * otherwise stay too small joins a neighbour regardless.
   */
  canJoin?(group: readonly U[], next: U): boolean;
}

interface Group<U> {
  units: U[];
  span: Span;
  /** Sum of the counts of the units (and of any text between them): an estimate of the whole. */
  tokens: number;
  /** How many texts were counted apart to make up `tokens`. */
  parts: number;
}

type Planned<U> = { group: Group<U> } | { chunks: readonly Chunk[] };

/**
 * Turns units, in file order, into passages: consecutive units are merged up to the target size,
 * a passage still too small afterwards joins a neighbour that has room, a unit too big for one
 * passage is split, and nothing is emitted over the hard limit.
 */
export function packUnits<U extends LineUnit>(table: LineTable, items: readonly (U | FixedPassages)[], budget: Budget, rules: PackRules<U>): Chunk[] {
  const plan = mergeTiny(table, planGroups(table, items, budget, rules), budget, rules);
  const titleOf = (units: readonly U[]) => (units.length === 1 && units[0] ? units[0].title : rules.groupTitle(units));
  return plan.flatMap((step) => {
    if ('chunks' in step) return step.chunks;
    const { group } = step;
    if (fitsOnePassage(table, group, budget)) return [spanChunk(table, group.span, titleOf(group.units))];
    return splitByLines(table, group.span, budget, titleOf(group.units));
  });
}

/** First pass: greedy groups up to the target; oversize units split, fixed passages kept. */
function planGroups<U extends LineUnit>(table: LineTable, items: readonly (U | FixedPassages)[], budget: Budget, rules: PackRules<U>): Planned<U>[] {
  const plan: Planned<U>[] = [];
  const splitOversize = rules.splitOversize ?? ((unit: U) => splitByLines(table, unit.span, budget, unit.title));
  let group: Group<U> | undefined;
  const flush = () => {
    if (group) plan.push({ group });
    group = undefined;
  };
  for (const item of items) {
    if ('fixed' in item) {
      flush();
      plan.push({ chunks: item.fixed });
      continue;
    }
    const span = trimSpan(table, item.span);
    if (!span) continue;
    const unit = { ...item, span };
    const tokens = budget.count(spanText(table, span));
    if (tokens > budget.max) {
      // What is too small to stand alone (imports, a lone heading) may lead into the big unit.
      if (group && group.tokens < budget.min && rules.leadsInto?.(group.units, unit)) unit.span = { start: group.span.start, end: span.end };
      else flush();
      group = undefined;
      plan.push({ chunks: splitOversize(unit) });
      continue;
    }
    if (group && (rules.canJoin?.(group.units, unit) ?? true)) {
      const gap = gapTokens(table, group.span.end, span.start, budget);
      if (group.tokens + gap + tokens <= budget.target) {
        group.units.push(unit);
        group.span = { start: group.span.start, end: span.end };
        group.tokens += gap + tokens;
        group.parts += gap > 0 ? 2 : 1;
        continue;
      }
    }
    flush();
    group = { units: [unit], span, tokens, parts: 1 };
  }
  flush();
  return plan;
}

/**
 * Second pass: a group below the minimum joins a neighbouring group that has room, preferring one
 * it may join by the rules (same top-level section), then the one that leaves the smaller passage.
 */
function mergeTiny<U extends LineUnit>(table: LineTable, plan: Planned<U>[], budget: Budget, rules: PackRules<U>): Planned<U>[] {
  const joinable = (first: Group<U>, second: Group<U>) => second.units.every((unit) => rules.canJoin?.(first.units, unit) ?? true);
  const result: Planned<U>[] = [];
  for (let index = 0; index < plan.length; index += 1) {
    const step = plan[index];
    if (!step) continue;
    if (!('group' in step) || step.group.tokens >= budget.min) {
      result.push(step);
      continue;
    }
    const before = result[result.length - 1];
    const after = plan[index + 1];
    const withBefore = before && 'group' in before ? joinGroups(table, before.group, step.group, budget) : undefined;
    const withAfter = after && 'group' in after ? joinGroups(table, step.group, after.group, budget) : undefined;
    const fitsBefore = withBefore && fitsOnePassage(table, withBefore, budget);
    const fitsAfter = withAfter && fitsOnePassage(table, withAfter, budget);
    const preferBefore = before && 'group' in before && joinable(before.group, step.group);
    const preferAfter = after && 'group' in after && joinable(step.group, after.group);
    const beforeWins = preferBefore !== preferAfter ? preferBefore : withBefore !== undefined && withBefore.tokens <= (withAfter?.tokens ?? Infinity);
    if (fitsBefore && (!fitsAfter || beforeWins)) {
      result[result.length - 1] = { group: withBefore };
    } else if (fitsAfter) {
      result.push({ group: withAfter });
      index += 1;
    } else {
      result.push(step);
    }
  }
  return result;
}

function joinGroups<U>(table: LineTable, first: Group<U>, second: Group<U>, budget: Budget): Group<U> {
  const gap = gapTokens(table, first.span.end, second.span.start, budget);
  return {
    units: [...first.units, ...second.units],
    span: { start: first.span.start, end: second.span.end },
    tokens: first.tokens + gap + second.tokens,
    parts: first.parts + second.parts + (gap > 0 ? 1 : 0),
  };
}

/** Whether the group fits: surely by its estimate, else by counting it (which then replaces the estimate). */
function fitsOnePassage<U>(table: LineTable, group: Group<U>, budget: Budget): boolean {
  if (group.parts === 1 ? group.tokens <= budget.max : budget.fits(group.tokens, group.parts - 1)) return true;
  group.tokens = budget.count(spanText(table, group.span));
  group.parts = 1;
  return group.tokens <= budget.max;
}

/** Tokens of what lies between two units (usually blank lines, which cost nothing). */
function gapTokens(table: LineTable, endOfFirst: number, startOfSecond: number, budget: Budget): number {
  if (startOfSecond - endOfFirst <= 1) return 0;
  return budget.count(spanText(table, { start: endOfFirst + 1, end: startOfSecond - 1 }));
}

/** "a, b, c, …": a short list of names for a passage that holds several things. */
export function listTitles(titles: readonly string[], separator: string, fallback: string, limit = 3): string {
  const distinct = [...new Set(titles.filter((title) => title !== ''))];
  if (distinct.length === 0) return fallback;
  const shown = distinct.slice(0, limit).join(separator);
  return distinct.length > limit ? `${shown}${separator}…` : shown;
}
