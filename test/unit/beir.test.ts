import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBeirDataset } from '../../src/core/eval/beir';
import { repoRoot, tempDir } from '../helpers/env';

const fixture = path.join(repoRoot, 'test', 'fixtures', 'beir-mini');

function copyFixture(edit: (dir: string) => void): string {
  const dir = path.join(tempDir(), 'collection');
  fs.cpSync(fixture, dir, { recursive: true });
  edit(dir);
  return dir;
}

describe('BEIR loader', () => {
  it('loads corpus, judged queries and graded qrels', async () => {
    const dataset = await loadBeirDataset(fixture);
    expect(dataset.name).toBe('beir-mini');
    expect(dataset.corpus).toHaveLength(12);
    expect(dataset.corpus[0]).toEqual({ id: 'd1', title: 'Rotating API keys', text: expect.stringContaining('rotate an API key') });
    // q5 has no judgements and is left out.
    expect(dataset.queries.map((q) => q.id)).toEqual(['q1', 'q2', 'q3', 'q4']);
    expect(dataset.qrels.get('q2')).toEqual(new Map([['d4', 2], ['d3', 1]]));
    expect(dataset.qrels.get('q4')?.get('d3')).toBe(-1);
  });

  it('names the file and line of a malformed JSON line', async () => {
    const dir = copyFixture((d) => fs.appendFileSync(path.join(d, 'corpus.jsonl'), '{"_id": "d13", "text": "unterminated\n'));
    await expect(loadBeirDataset(dir)).rejects.toThrow(/corpus\.jsonl line 13 is not valid JSON/);
  });

  it('rejects a missing folder, a missing file, an empty corpus and duplicate ids', async () => {
    await expect(loadBeirDataset(path.join(tempDir(), 'nope'))).rejects.toThrow(/does not exist/);
    await expect(loadBeirDataset(copyFixture((d) => fs.rmSync(path.join(d, 'qrels', 'test.tsv'))))).rejects.toThrow(/test\.tsv is missing/);
    await expect(loadBeirDataset(copyFixture((d) => fs.writeFileSync(path.join(d, 'corpus.jsonl'), '\n')))).rejects.toThrow(/has no documents/);
    await expect(loadBeirDataset(copyFixture((d) => fs.appendFileSync(path.join(d, 'corpus.jsonl'), '{"_id": "d1", "text": "again"}\n')))).rejects.toThrow(/repeats document id "d1"/);
  });

  it('rejects a malformed qrels line and qrels that match no query', async () => {
    await expect(loadBeirDataset(copyFixture((d) => fs.appendFileSync(path.join(d, 'qrels', 'test.tsv'), 'q1 d2 1\n')))).rejects.toThrow(/test\.tsv line 8/);
    await expect(loadBeirDataset(copyFixture((d) => fs.writeFileSync(path.join(d, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nzz\td1\t1\n')))).rejects.toThrow(/No query/);
  });
});
