import type { Parser } from 'web-tree-sitter';
import type { Chunk, ChunkOptions, SourceFile } from '../../types';
import { makeBudget, type Budget } from '../budget';
import { fileLineTable, trimSpan, type LineTable } from '../lines';
import { chunkLineWindows } from '../lineWindows';
import { listTitles, packUnits, type LineUnit } from '../pack';
import { fitSpan, splitByLines } from '../split';
import { classSummaryTable } from './classSummary';
import { classMembers, topLevelDeclarations, type Declaration } from './declarations';
import { loadParser } from './grammars';
import { LANGUAGE_SYNTAX, type GrammarName, type LanguageSyntax } from './languages';

interface CodeUnit extends LineUnit {
  /** Own names of the declarations in the unit, for the title of a merged passage. */
  names: string[];
  /** The declaration, when the unit holds exactly one. */
  declaration?: Declaration;
}

/**
 * Code by top-level symbols, read from a tree-sitter syntax tree. Falls back to line windows when
 * the grammar cannot be loaded or the parser gives up.
 */
export async function chunkCode(file: SourceFile, grammar: GrammarName, options: ChunkOptions): Promise<Chunk[]> {
  const parser = await loadParser(grammar);
  if (!parser) return chunkLineWindows(file, options);
  return chunkParsedCode(file, parser, LANGUAGE_SYNTAX[grammar], options);
}

/**
 * Every line belongs to exactly one top-level unit: a declaration together with the comments,
 * decorators and blank lines between it and the declaration before. Small consecutive units are
 * merged (imports, constants, short functions), a function too big for one passage is cut into
 * whole lines, and a class too big for one passage becomes a summary plus its members.
 *
 * Syntax errors: tree-sitter still returns a tree, with ERROR nodes where it could not make sense
 * of the text. Those are kept as unnamed units like any statement, so their lines are never lost,
 * and declarations the parser recovered around them keep their titles.
 */
function chunkParsedCode(file: SourceFile, parser: Parser, syntax: LanguageSyntax, options: ChunkOptions): Chunk[] {
  const table = fileLineTable(file.text);
  if (!trimSpan(table, { start: 0, end: table.lines.length - 1 })) return [];
  const tree = parser.parse(file.text);
  if (!tree) return chunkLineWindows(file, options);
  try {
    const budget = makeBudget(options);
    const units = unitsOf(topLevelDeclarations(tree.rootNode, syntax), table.lines.length, file.path, true);
    return packCodeUnits(table, units, budget, syntax, file.path);
  } finally {
    // Trees live in the WebAssembly heap, not the JavaScript one: free them or they pile up.
    tree.delete();
  }
}

/**
 * Units of declarations in order. Top-level units are contiguous: each also takes the lines since
 * the previous declaration, so nothing is lost. Class members start at their attached comments
 * instead: the lines between members (fields) belong to the class summary.
 */
function unitsOf(declarations: readonly Declaration[], lineCount: number, fallbackTitle: string, contiguous: boolean): CodeUnit[] {
  const units: CodeUnit[] = [];
  for (const declaration of declarations) {
    const previous = units[units.length - 1];
    const names = declaration.named ? [declaration.title] : [];
    const start = contiguous ? (previous ? previous.span.end + 1 : 0) : declaration.leadStartRow;
    // Declarations sharing a line (`int a; int b;`) cannot be told apart by lines: one unit.
    if (previous && (declaration.startRow <= previous.span.end || start <= previous.span.end)) {
      previous.span.end = Math.max(previous.span.end, declaration.endRow);
      previous.names.push(...names);
      previous.title = listTitles(previous.names, ', ', fallbackTitle);
      delete previous.declaration;
      continue;
    }
    units.push({ span: { start, end: declaration.endRow }, title: declaration.title || fallbackTitle, names, declaration });
  }
  if (!contiguous) return units;
  const last = units[units.length - 1];
  // Trailing comments belong to the last unit; a file of comments only is one unit.
  if (last) last.span.end = lineCount - 1;
  else units.push({ span: { start: 0, end: lineCount - 1 }, title: fallbackTitle, names: [] });
  return units;
}

function packCodeUnits(table: LineTable, units: readonly CodeUnit[], budget: Budget, syntax: LanguageSyntax, fallbackTitle: string): Chunk[] {
  return packUnits(table, units, budget, {
    groupTitle: (group) => listTitles(group.flatMap((unit) => unit.names), ', ', fallbackTitle),
    splitOversize: (unit) =>
      unit.declaration?.kind === 'class' ? chunkLargeClass(table, unit, unit.declaration, budget, syntax) : splitByLines(table, unit.span, budget, unit.title),
    // Imports and other unnamed statements may open a big declaration; a small function may not
    // (it would end up under another function's title).
    leadsInto: (small) => small.every((unit) => unit.names.length === 0),
  });
}

/**
 * A class too big for one passage: a summary passage (header, fields, member signatures), then
 * its members as units of their own, merged and split like top-level ones. A nested class that
 * is itself too big is handled the same way, one level down.
 */
function chunkLargeClass(table: LineTable, unit: CodeUnit, declaration: Declaration, budget: Budget, syntax: LanguageSyntax): Chunk[] {
  const members = classMembers(declaration, syntax).filter((member) => member.kind !== 'other');
  if (members.length === 0) return splitByLines(table, unit.span, budget, unit.title);
  const summary = classSummaryTable(table, unit.span, members);
  const summarySpan = trimSpan(summary, { start: 0, end: summary.lines.length - 1 });
  const summaryChunks = summarySpan ? fitSpan(summary, summarySpan, budget, unit.title) : [];
  const memberUnits = unitsOf(members, table.lines.length, unit.title, false);
  return [...summaryChunks, ...packCodeUnits(table, memberUnits, budget, syntax, unit.title)];
}
