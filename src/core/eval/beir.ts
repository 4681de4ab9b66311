import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpecializeError } from '../errors';
import { readJsonLines } from '../util/jsonl';

/**
 * A retrieval test collection in BEIR layout: `corpus.jsonl`, `queries.jsonl` and `qrels/<split>.tsv`
 * (`query-id<TAB>corpus-id<TAB>score`, with a header line).
 */
export interface BeirDocument {
  id: string;
  title: string;
  text: string;
}

export interface BeirDataset {
  name: string;
  dir: string;
  corpus: BeirDocument[];
  /** Queries that have judgements in the split, in file order. */
  queries: { id: string; text: string }[];
  qrels: Map<string, Map<string, number>>;
}

export async function loadBeirDataset(dir: string, split = 'test'): Promise<BeirDataset> {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new SpecializeError(`Dataset folder ${root} does not exist.`, 'Pass --dataset a folder in BEIR layout (corpus.jsonl, queries.jsonl, qrels/test.tsv).', 'not-found');
  }
  const corpusFile = requireFile(root, 'corpus.jsonl');
  const queriesFile = requireFile(root, 'queries.jsonl');
  const qrelsFile = requireFile(root, path.join('qrels', `${split}.tsv`));

  const corpus: BeirDocument[] = [];
  const seen = new Set<string>();
  for await (const { value, line } of readJsonLines(corpusFile)) {
    const id = requireId(value, corpusFile, line);
    if (seen.has(id)) {
      throw new SpecializeError(`${corpusFile} line ${line} repeats document id "${id}".`, 'Give every document a unique "_id".');
    }
    seen.add(id);
    corpus.push({ id, title: optionalString(value.title), text: optionalString(value.text) });
  }
  if (corpus.length === 0) {
    throw new SpecializeError(`${corpusFile} has no documents.`, 'Add at least one {"_id", "title", "text"} line.');
  }

  const qrels = await readQrels(qrelsFile);
  const queries: { id: string; text: string }[] = [];
  for await (const { value, line } of readJsonLines(queriesFile)) {
    const id = requireId(value, queriesFile, line);
    if (!qrels.has(id)) continue;
    const text = optionalString(value.text).trim();
    if (text === '') throw new SpecializeError(`${queriesFile} line ${line}: query "${id}" has no text.`, 'Give the query a non-empty "text".');
    queries.push({ id, text });
  }
  if (queries.length === 0) {
    throw new SpecializeError(`No query in ${queriesFile} has judgements in ${qrelsFile}.`, 'Check that the query ids in the qrels file match the "_id" values in queries.jsonl.');
  }
  return { name: path.basename(root), dir: root, corpus, queries, qrels };
}

async function readQrels(file: string): Promise<Map<string, Map<string, number>>> {
  const qrels = new Map<string, Map<string, number>>();
  const lines = (await fs.promises.readFile(file, 'utf8')).split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || (index === 0 && /^query-?id/i.test(line))) return;
    const fields = line.split('\t');
    const score = Number(fields[2]);
    if (fields.length < 3 || !fields[0] || !fields[1] || !Number.isFinite(score)) {
      throw new SpecializeError(
        `${file} line ${index + 1} is not "query-id<TAB>corpus-id<TAB>score": ${JSON.stringify(raw.slice(0, 80))}.`,
        'Fix or remove that line.',
      );
    }
    let judged = qrels.get(fields[0]);
    if (!judged) qrels.set(fields[0], (judged = new Map()));
    judged.set(fields[1], score);
  });
  return qrels;
}

function requireFile(root: string, relative: string): string {
  const file = path.join(root, relative);
  if (!fs.existsSync(file)) {
    throw new SpecializeError(`${file} is missing.`, `A BEIR dataset needs corpus.jsonl, queries.jsonl and qrels/<split>.tsv in ${root}.`, 'not-found');
  }
  return file;
}

function requireId(value: Record<string, unknown>, file: string, line: number): string {
  const id = value._id ?? value.id;
  if (typeof id === 'string' && id !== '') return id;
  if (typeof id === 'number') return String(id);
  throw new SpecializeError(`${file} line ${line} has no "_id".`, 'Give every line a string "_id".');
}

function optionalString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
