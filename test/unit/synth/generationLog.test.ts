import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generationKey, GenerationLog, type GenerationRecord } from '../../../src/core/synth/generationLog';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genlog-'));
  dirs.push(dir);
  return path.join(dir, 'out', 'generations.jsonl');
}

function record(key: string, query: string | null = `query ${key}`): GenerationRecord {
  return {
    key,
    passage_id: `p-${key}`,
    passage_hash: `h-${key}`,
    type: 'question',
    n: 0,
    prompt_version: 'v',
    model: 'm',
    split: 'train',
    raw: query ?? '',
    query,
    reason: query === null ? 'empty' : null,
    prompt_tokens: 10,
    completion_tokens: 5,
  };
}

describe('GenerationLog', () => {
  it('keeps appended records across reopen and ignores a key appended twice', async () => {
    const file = tempFile();
    const log = await GenerationLog.open(file);
    log.append([record('a'), record('b', null)]);
    log.append([record('a')]);
    log.close();
    const reopened = await GenerationLog.open(file);
    expect(reopened.records().map((r) => r.key)).toEqual(['a', 'b']);
    expect(reopened.has('b')).toBe(true);
    reopened.close();
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('cuts off a line torn by a kill and appends cleanly after it', async () => {
    const file = tempFile();
    const log = await GenerationLog.open(file);
    log.append([record('a')]);
    log.close();
    fs.appendFileSync(file, JSON.stringify(record('b')).slice(0, 40));
    const reopened = await GenerationLog.open(file);
    expect(reopened.records().map((r) => r.key)).toEqual(['a']);
    reopened.append([record('c')]);
    reopened.close();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as GenerationRecord).key)).toEqual(['a', 'c']);
  });

  it('refuses a damaged line in the middle, naming the line, instead of dropping answers', async () => {
    const file = tempFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(record('a'))}\nnot json\n${JSON.stringify(record('b'))}\n`);
    await expect(GenerationLog.open(file)).rejects.toThrow(/line 2 is not valid JSON/);
    expect(fs.readFileSync(file, 'utf8')).toContain('not json');
  });

  it('keys on passage content, type, index, prompt and model', () => {
    const base = { passageHash: 'h', type: 'question', n: 0, promptVersion: 'v1', model: 'm' };
    const keys = new Set([
      generationKey(base),
      generationKey({ ...base, passageHash: 'h2' }),
      generationKey({ ...base, type: 'claim' }),
      generationKey({ ...base, n: 1 }),
      generationKey({ ...base, promptVersion: 'v2' }),
      generationKey({ ...base, model: 'm2' }),
    ]);
    expect(keys.size).toBe(6);
    expect(generationKey(base)).toBe(generationKey({ ...base }));
  });
});
