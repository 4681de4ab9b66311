import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgedQueries, judgementsFile, readJudgements, recordJudgement } from '../../src/core/judgements/judgementLog';
import { tempDir } from '../helpers/env';

function storeDir(): string {
  const dir = tempDir('specialize-judgements-');
  fs.writeFileSync(path.join(dir, 'store.json'), '{}\n');
  return dir;
}

describe('judgement log', () => {
  it('keeps the latest mark per query and passage, with queries that differ only in spacing as one', async () => {
    const dir = storeDir();
    await recordJudgement(dir, { query: 'retry policy', passageId: 'a', relevant: false });
    await recordJudgement(dir, { query: 'retry policy', passageId: 'b', relevant: true, path: 'docs/retry.md' });
    await recordJudgement(dir, { query: '  retry   policy ', passageId: 'a', relevant: true });
    const { marks, unreadableLines } = readJudgements(dir);
    expect(unreadableLines).toBe(0);
    expect(marks.map((mark) => [mark.query, mark.passageId, mark.relevant])).toEqual([
      ['retry policy', 'b', true],
      ['retry policy', 'a', true],
    ]);
    expect(marks[0]?.path).toBe('docs/retry.md');
    expect(fs.readFileSync(judgementsFile(dir), 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('withdraws a mark with relevant: null, and takes a later mark again', async () => {
    const dir = storeDir();
    await recordJudgement(dir, { query: 'q', passageId: 'a', relevant: true });
    await recordJudgement(dir, { query: 'q', passageId: 'b', relevant: false });
    await recordJudgement(dir, { query: 'q', passageId: 'a', relevant: null });
    expect(readJudgements(dir).marks.map((mark) => mark.passageId)).toEqual(['b']);
    expect(judgedQueries(dir).queries).toEqual([]);
    await recordJudgement(dir, { query: 'q', passageId: 'a', relevant: true });
    expect(readJudgements(dir).marks.map((mark) => [mark.passageId, mark.relevant])).toEqual([
      ['b', false],
      ['a', true],
    ]);
  });

  it('groups marks by query and keeps only queries with a relevant passage', async () => {
    const dir = storeDir();
    await recordJudgement(dir, { query: 'q1', passageId: 'a', relevant: true });
    await recordJudgement(dir, { query: 'q1', passageId: 'b', relevant: false });
    await recordJudgement(dir, { query: 'q2', passageId: 'c', relevant: false });
    const summary = judgedQueries(dir);
    expect(summary.marks).toBe(3);
    expect(summary.queries).toHaveLength(1);
    expect(summary.queries[0]?.query).toBe('q1');
    expect([...(summary.queries[0]?.judgements ?? [])]).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
  });

  it('skips lines it cannot read (a torn append, a hand edit) and counts them', async () => {
    const dir = storeDir();
    await recordJudgement(dir, { query: 'q', passageId: 'a', relevant: true });
    fs.appendFileSync(judgementsFile(dir), '{"query": 3, "passageId": "x", "relevant": true}\nnot json\n{"query": "q", "passageId": "b", "relev');
    const { marks, unreadableLines } = readJudgements(dir);
    expect(marks.map((mark) => mark.passageId)).toEqual(['a']);
    expect(unreadableLines).toBe(3);
  });

  it('has no judgements before the first mark', () => {
    expect(judgedQueries(storeDir())).toEqual({ queries: [], marks: 0, unreadableLines: 0 });
  });

  it('refuses an empty query or id, and a folder that holds no index, writing nothing', async () => {
    const dir = storeDir();
    await expect(recordJudgement(dir, { query: '   ', passageId: 'a', relevant: true })).rejects.toThrow(/query is empty/);
    await expect(recordJudgement(dir, { query: 'q', passageId: ' ', relevant: true })).rejects.toThrow(/id is empty/);
    const empty = tempDir('specialize-judgements-none-');
    await expect(recordJudgement(empty, { query: 'q', passageId: 'a', relevant: true })).rejects.toThrow(/no index at/);
    expect(fs.existsSync(judgementsFile(dir))).toBe(false);
    expect(fs.existsSync(judgementsFile(empty))).toBe(false);
  });
});
