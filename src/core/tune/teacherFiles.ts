import * as path from 'node:path';
import { SpecializeError } from '../errors';
import { Store } from '../store/store';
import { writeJsonLines } from './jsonl';
import type { TeacherInputLine } from './trainingData';

/**
 * What `teacher/score` reads from its folder: `teacher_input.jsonl` (the queries and candidate ids,
 * and with `lexical` each candidate's BM25 score over the whole index) and `passages.jsonl` (every
 * candidate's text exactly as the model embeds it: title and text).
 */
export async function writeTeacherInput(dir: string, storeDir: string, lines: readonly TeacherInputLine[], options: { lexical?: boolean } = {}): Promise<void> {
  const ids = [...new Set(lines.flatMap((line) => line.candidates))];
  const store = await Store.open(storeDir);
  let texts: Map<string, string>;
  let withScores: readonly TeacherInputLine[] = lines;
  try {
    texts = await store.embeddedTexts(ids);
    if (options.lexical) withScores = await Promise.all(lines.map(async (line) => ({ ...line, lexical: await store.bm25Scores(line.query, line.candidates) })));
  } finally {
    store.close();
  }
  const missing = ids.filter((id) => !texts.has(id));
  if (missing.length > 0) throw new SpecializeError(`${missing.length} candidate passages are no longer in the index (e.g. ${missing[0]}).`, 'The indexed folders changed during the run: start over with --fresh.', 'store-invalid');
  await writeJsonLines(path.join(dir, 'passages.jsonl'), ids.map((id) => ({ id, text: texts.get(id) })));
  await writeJsonLines(path.join(dir, 'teacher_input.jsonl'), withScores);
}
