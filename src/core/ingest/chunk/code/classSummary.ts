import { indentation, mappedLineTable, type LineTable, type Span } from '../lines';
import { bodyOf, lastRow, type Declaration } from './declarations';

/** Stands for a folded body in a class summary (plain ASCII: tokenizers know it). */
export const FOLDED_BODY = '...';

/**
 * The outline of a class too big for one passage: its header, fields and every other line that is
 * not a member's, with each member (method, nested class) reduced to its signature and a `...`
 * line for its body. The members' comments are left out too: they go with the member passages.
 * Every kept line keeps its file line number, and a `...` line takes the number of the first line
 * it stands for, so the summary spans the class's lines even though its text is not a plain copy
 * of them.
 */
export function classSummaryTable(table: LineTable, classSpan: Span, members: readonly Declaration[]): LineTable {
  const lines: string[] = [];
  const lineNumbers: number[] = [];
  const keep = (row: number) => {
    lines.push(table.lines[row] ?? '');
    lineNumbers.push(table.lineNumber(row));
  };
  let row = classSpan.start;
  for (const member of members) {
    // Members sharing a line with the one before (`int a() {} int b() {}`) stay as written.
    if (member.leadStartRow < row) continue;
    while (row < member.leadStartRow) keep(row++);
    const fold = foldedRows(table, member);
    for (let kept = member.signatureStartRow; kept <= member.endRow; kept += 1) {
      if (fold && kept === fold.start) {
        lines.push(`${indentation(table.lines[kept] ?? '')}${FOLDED_BODY}`);
        lineNumbers.push(table.lineNumber(kept));
        kept = fold.end;
        continue;
      }
      keep(kept);
    }
    row = member.endRow + 1;
  }
  while (row <= classSpan.end) keep(row++);
  return mappedLineTable(lines, lineNumbers);
}

/**
 * Rows of a member's body to fold: inside the braces for `{ … }` bodies (the lines holding the
 * braces stay, so the outline still reads as code), the whole indented block for Python. Nothing
 * when the body shares its only line with the signature.
 */
function foldedRows(table: LineTable, member: Declaration): Span | undefined {
  const body = bodyOf(member.inner);
  if (!body) return undefined;
  const bodyStart = body.startPosition.row;
  const bodyEnd = lastRow(body);
  const opensWithBrace = body.firstChild?.type === '{';
  // A body that starts on a line of the signature (`=> expr`, `: return x`) keeps that line.
  const sharesSignatureLine = (body.previousSibling?.endPosition.row ?? -1) === bodyStart;
  const start = opensWithBrace || sharesSignatureLine ? bodyStart + 1 : bodyStart;
  const closesWithBrace = body.lastChild?.type === '}' && (table.lines[bodyEnd] ?? '').trimStart().startsWith('}');
  const end = closesWithBrace ? bodyEnd - 1 : bodyEnd;
  return start <= end ? { start, end } : undefined;
}
