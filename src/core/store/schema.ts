import { Field, FixedSizeList, Float32, Int32, Schema, Utf8 } from 'apache-arrow';

/** A passage as the store keeps it. Line numbers are 1-based and inclusive, when known. */
export interface PassageRow {
  id: string;
  /** sha256 of the title and text: a passage whose hash is unchanged is never re-embedded. */
  hash: string;
  root: string;
  path: string;
  title: string;
  text: string;
  start_line: number | null;
  end_line: number | null;
  /** Title and text together: what is embedded and what BM25 indexes. */
  search_text: string;
  /** Analyzed term counts of search_text (`term:count …`), from which the BM25 index is built. */
  terms: string;
}

/** A passage as search results carry it (the analyzed terms and search text stay on disk). */
export type StoredPassage = Omit<PassageRow, 'search_text' | 'terms'>;

export interface VectorRow {
  id: string;
  hash: string;
  vector: Float32Array | number[];
}

export const passageSchema = new Schema([
  new Field('id', new Utf8(), false),
  new Field('hash', new Utf8(), false),
  new Field('root', new Utf8(), false),
  new Field('path', new Utf8(), false),
  new Field('title', new Utf8(), false),
  new Field('text', new Utf8(), false),
  new Field('start_line', new Int32(), true),
  new Field('end_line', new Int32(), true),
  new Field('search_text', new Utf8(), false),
  new Field('terms', new Utf8(), false),
]);

export function vectorSchema(dimension: number): Schema {
  return new Schema([
    new Field('id', new Utf8(), false),
    new Field('hash', new Utf8(), false),
    new Field('vector', new FixedSizeList(dimension, new Field('item', new Float32(), true)), false),
  ]);
}
