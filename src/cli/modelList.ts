import type { ModelEntry } from '../core/store/manifest';

/** One row of `specialize models list --json`: every key always present (null when unknown), so scripts need no guards. */
export interface ModelListRow {
  version: string;
  label: string | null;
  active: boolean;
  modelId: string;
  precision: ModelEntry['precision'];
  dimension: number;
  tunedFrom: string | null;
  evaluation: ModelEntry['evaluation'] | null;
  table: string;
  updated: string;
}

export function modelListRows(models: readonly ModelEntry[], activeVersion: string | undefined): ModelListRow[] {
  return models.map((entry) => ({
    version: entry.version,
    label: entry.label ?? null,
    active: entry.version === activeVersion,
    modelId: entry.modelId,
    precision: entry.precision,
    dimension: entry.dimension,
    tunedFrom: entry.tunedFrom ?? null,
    evaluation: entry.evaluation ?? null,
    table: entry.table,
    updated: entry.updated,
  }));
}

const NONE = '-';

/** A plain-text table, `*` marking the active version, metrics to four places like `specialize eval`. */
export function formatModelTable(rows: readonly ModelListRow[], storeDir: string): string {
  if (rows.length === 0) return `The index at ${storeDir} has no model versions yet; \`specialize index <folder> --store ${storeDir}\` embeds one.\n`;
  const header = ['', 'version', 'label', 'model', 'precision', 'dims', 'tuned from', 'nDCG@10', 'R@100', 'MRR@10', 'evaluated on'];
  const cells = rows.map((row) => {
    const evaluation = row.evaluation;
    return [
      row.active ? '*' : ' ',
      row.version,
      row.label ?? NONE,
      row.modelId,
      row.precision,
      String(row.dimension),
      row.tunedFrom ?? NONE,
      evaluation ? evaluation.metrics['ndcg@10'].toFixed(4) : NONE,
      evaluation ? evaluation.metrics['recall@100'].toFixed(4) : NONE,
      evaluation ? evaluation.metrics['mrr@10'].toFixed(4) : NONE,
      evaluation ? `${evaluation.queries} queries, ${evaluation.source}, ${evaluation.evaluatedAt.slice(0, 10)}` : NONE,
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => (row[column] as string).length)));
  // The last column is free text: left unpadded so lines carry no trailing spaces.
  const line = (row: readonly string[]) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] as number))).join('  ');
  return [line(header), ...cells.map(line), '', '* the active version: searches use it. Switch with `specialize use <version>`.', ''].join('\n');
}
