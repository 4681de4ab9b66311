import type { Chunk, ChunkOptions, SourceFile } from '../types';
import { makeBudget } from './budget';
import { isBlank, mappedLineTable, type Span } from './lines';
import { markdownOutline } from './markdown';
import { listTitles, packUnits, type LineUnit } from './pack';
import { parseJsonWithLines, type JsonNode } from './jsonLines';
import { chunkText } from './text';

interface CellUnit extends LineUnit {
  /** 1-based position of the cell in the notebook. */
  cell: number;
  /** First heading of a Markdown cell. */
  heading?: string;
}

/**
 * Jupyter notebooks by cell, outputs dropped. Passage texts are cell sources (cells merged into
 * one passage are separated by a blank line), and line numbers point into the .ipynb file: the
 * JSON lines holding the first and last source line of the passage. nbformat writes one source
 * line per JSON string, so this is exact; a source stored as one string maps all its lines to the
 * line of that string. A file that is not a readable notebook is chunked as plain text.
 */
export function chunkNotebook(file: SourceFile, options: ChunkOptions): Chunk[] {
  let cells: JsonNode[] | undefined;
  try {
    cells = notebookCells(parseJsonWithLines(file.text));
  } catch {
    cells = undefined;
  }
  if (!cells) return chunkText(file, options);

  const lines: string[] = [];
  const lineNumbers: number[] = [];
  const units: CellUnit[] = [];
  cells.forEach((cell, index) => {
    const source = cellSource(cell);
    if (source.every((line) => isBlank(line.text))) return;
    // A blank line between cells keeps them apart when merged; it borrows the line before it.
    if (lines.length > 0) {
      lines.push('');
      lineNumbers.push(lineNumbers[lineNumbers.length - 1] ?? 1);
    }
    const span: Span = { start: lines.length, end: lines.length + source.length - 1 };
    for (const line of source) {
      lines.push(line.text);
      lineNumbers.push(line.line);
    }
    units.push(cellUnit(cell, index + 1, span, source));
  });
  const table = mappedLineTable(lines, lineNumbers);
  return packUnits(table, units, makeBudget(options), { groupTitle: (group) => cellsTitle(group) });
}

/** The cells of nbformat 4 (`cells`) or 3 (`worksheets[].cells`); undefined if this is not a notebook. */
function notebookCells(root: JsonNode): JsonNode[] | undefined {
  if (root.kind !== 'object') return undefined;
  const cells = root.members.get('cells');
  if (cells?.kind === 'array') return cells.items;
  const worksheets = root.members.get('worksheets');
  if (worksheets?.kind !== 'array') return undefined;
  return worksheets.items.flatMap((sheet) => {
    const sheetCells = sheet.kind === 'object' ? sheet.members.get('cells') : undefined;
    return sheetCells?.kind === 'array' ? sheetCells.items : [];
  });
}

function cellType(cell: JsonNode): string {
  const type = cell.kind === 'object' ? cell.members.get('cell_type') : undefined;
  return type?.kind === 'string' ? type.value : 'code';
}

/**
 * Source lines of a cell with the file line of the JSON string each one starts in. The source is
 * a list of strings (usually one per line) or one string; nbformat 3 code cells call it `input`.
 */
function cellSource(cell: JsonNode): { text: string; line: number }[] {
  if (cell.kind !== 'object') return [];
  const node = cell.members.get('source') ?? cell.members.get('input');
  const parts = node?.kind === 'array' ? node.items : node ? [node] : [];
  const lines: { text: string; line: number }[] = [];
  // A line is opened by the first string that has something for it, so a string that ends with
  // "\n" does not claim the next line: the next string, on the next file line, does.
  let lineOpen = false;
  for (const part of parts) {
    if (part.kind !== 'string') continue;
    const pieces = part.value.split('\n');
    pieces.forEach((piece, index) => {
      if (index > 0) lineOpen = false;
      const isLast = index === pieces.length - 1;
      if (!lineOpen && (piece !== '' || !isLast)) {
        lines.push({ text: '', line: part.line });
        lineOpen = true;
      }
      const current = lines[lines.length - 1];
      if (current && lineOpen) current.text += piece;
    });
  }
  return lines;
}

function cellUnit(cell: JsonNode, number: number, span: Span, source: readonly { text: string }[]): CellUnit {
  const type = cellType(cell);
  const generic = `Cell ${number} (${type})`;
  if (type !== 'markdown') return { span, title: generic, cell: number };
  const texts = source.map((line) => line.text);
  const heading = markdownOutline(texts).headings.find((h) => h.title !== '')?.title;
  return heading ? { span, title: heading, cell: number, heading } : { span, title: generic, cell: number };
}

/** Merged cells are named by their headings, or by their numbers when they have none. */
function cellsTitle(cells: readonly CellUnit[]): string {
  const headings = cells.flatMap((cell) => (cell.heading ? [cell.heading] : []));
  const first = cells[0]?.cell ?? 1;
  const last = cells[cells.length - 1]?.cell ?? first;
  return listTitles(headings, ' | ', `Cells ${first}-${last}`);
}
