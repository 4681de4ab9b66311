import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/env';
import { runCli } from '../helpers/cli';
import { tinyModelDir } from '../helpers/models';

const fixture = path.join(repoRoot, 'test', 'fixtures', 'beir-mini');

function workspace(): string {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'docs'));
  fs.writeFileSync(path.join(dir, 'docs', 'retries.md'), '# Retries\n\nFailed jobs are retried with exponential backoff.\n\nThe delay doubles each time.\n');
  fs.writeFileSync(path.join(dir, 'docs', 'shutdown.md'), '# Shutdown\n\nOn SIGTERM the worker finishes running jobs.\n');
  fs.writeFileSync(path.join(dir, '.env'), 'SECRET_TOKEN=do-not-index\n');
  fs.writeFileSync(path.join(dir, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1]));
  return dir;
}

describe('specialize eval', () => {
  it('prints the documented JSON object for every mode', () => {
    const model = tinyModelDir();
    for (const mode of ['bm25', 'dense', 'hybrid']) {
      const result = runCli(['eval', '--dataset', fixture, '--mode', mode, '--model', model, '--store', path.join(tempDir(), 's'), '--json']);
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(Object.keys(report)).toEqual(expect.arrayContaining(['dataset', 'mode', 'model', 'queries', 'ndcg@10', 'recall@100', 'mrr@10', 'seconds']));
      expect(report).toMatchObject({ dataset: 'beir-mini', mode, queries: 4 });
      for (const key of ['ndcg@10', 'recall@100', 'mrr@10']) {
        expect(report[key]).toBeGreaterThanOrEqual(0);
        expect(report[key]).toBeLessThanOrEqual(1);
      }
      if (mode === 'bm25') expect(report.model).toBeNull();
      else expect(report.model).toBe(model);
    }
  });

  it('finds the obvious answers of the fixture with BM25', () => {
    const result = runCli(['eval', '--dataset', fixture, '--mode', 'bm25', '--store', path.join(tempDir(), 's'), '--json', '--per-query']);
    const report = JSON.parse(result.stdout) as { per_query: { queryId: string; 'mrr@10': number }[] };
    const q4 = report.per_query.find((q) => q.queryId === 'q4');
    // "LockTimeout error" matches d8's title and text; d3 is judged -1 and never counts.
    expect(q4?.['mrr@10']).toBe(1);
  });
});

describe('specialize index and search', () => {
  it('indexes text files (not secrets or binaries) and returns results with lines, snippet and scores', () => {
    const dir = workspace();
    const store = path.join(tempDir(), 'index');
    const indexed = runCli(['index', dir, '--store', store, '--model', tinyModelDir(), '--json']);
    expect(indexed.code, indexed.stderr).toBe(0);
    const report = JSON.parse(indexed.stdout) as { scan: { indexedFiles: number; skippedFiles: Record<string, number> }; vectors: { embedded: number } };
    expect(report.scan.indexedFiles).toBe(2);
    expect(report.scan.skippedFiles).toEqual({ secret: 1, binary: 1 });

    const searched = runCli(['search', 'exponential backoff', '--store', store, '--k', '2', '--json']);
    expect(searched.code, searched.stderr).toBe(0);
    const { results } = JSON.parse(searched.stdout) as { results: { path: string; startLine: number; endLine: number; snippet: string; scores: Record<string, number> }[] };
    // The tiny test model's 26-word vocabulary spells most words letter by letter, so even short
    // paragraphs fill its 64-token window: the passage is the paragraph on line 3.
    expect(results[0]).toMatchObject({ path: 'docs/retries.md', startLine: 3, endLine: 3, title: 'Retries' });
    expect(results[0]?.snippet).toContain('exponential backoff');
    expect(Object.keys(results[0]?.scores ?? {})).toEqual(expect.arrayContaining(['rrf', 'dense', 'bm25']));

    const plain = runCli(['search', 'SIGTERM', '--store', store, '--mode', 'bm25']);
    expect(plain.stdout).toMatch(/1\. docs\/shutdown\.md:1-3/);
    expect(plain.stdout).not.toContain('SECRET_TOKEN');

    const again = runCli(['index', dir, '--store', store, '--model', tinyModelDir(), '--json']);
    expect((JSON.parse(again.stdout) as { vectors: { embedded: number } }).vectors.embedded).toBe(0);
  });
});

describe('bad input gets one clear message, exit code 2, and nothing stored is lost', () => {
  const expectProblem = (args: string[], message: RegExp) => {
    const result = runCli(args);
    expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    return result;
  };

  it('names missing datasets, folders and stores', () => {
    expectProblem(['eval', '--dataset', '/no/such/collection', '--mode', 'bm25'], /Dataset folder \/no\/such\/collection does not exist[\s\S]*fix:/);
    expectProblem(['index', '/no/such/folder', '--store', path.join(tempDir(), 's')], /The folder \/no\/such\/folder does not exist/);
    expectProblem(['search', 'anything', '--store', path.join(tempDir(), 'never-built')], /There is no index[\s\S]*specialize index/);
  });

  it('names the malformed line of a collection and an empty corpus', () => {
    const broken = path.join(tempDir(), 'broken');
    fs.cpSync(fixture, broken, { recursive: true });
    fs.appendFileSync(path.join(broken, 'queries.jsonl'), 'not json\n');
    expectProblem(['eval', '--dataset', broken, '--mode', 'bm25', '--store', path.join(tempDir(), 's')], /queries\.jsonl line 6 is not valid JSON/);
    fs.writeFileSync(path.join(broken, 'corpus.jsonl'), '');
    expectProblem(['eval', '--dataset', broken, '--mode', 'bm25', '--store', path.join(tempDir(), 's')], /corpus\.jsonl has no documents/);
  });

  it('rejects an invalid model folder, a broken tokenizer and bad options, keeping the index intact', () => {
    const dir = workspace();
    const store = path.join(tempDir(), 'index');
    expect(runCli(['index', dir, '--store', store, '--model', tinyModelDir()]).code).toBe(0);

    const notAModel = tempDir();
    fs.writeFileSync(path.join(notAModel, 'readme.txt'), 'hello');
    expectProblem(['index', dir, '--store', store, '--model', notAModel], /has no config\.json/);
    const badTokenizer = path.join(tempDir(), 'model');
    fs.cpSync(tinyModelDir(), badTokenizer, { recursive: true });
    fs.writeFileSync(path.join(badTokenizer, 'tokenizer.json'), '{"model": 42}');
    expectProblem(['index', dir, '--store', store, '--model', badTokenizer], /tokenizer in .* cannot be loaded/);
    expectProblem(['index', dir, '--store', store, '--model', '/no/such/model/dir'], /Model folder .* does not exist/);
    expectProblem(['search', 'x', '--store', store, '--k', '0'], /--k must be a whole number/);
    expectProblem(['search', 'x', '--store', store, '--mode', 'fuzzy'], /--mode must be one of dense, bm25, hybrid/);

    const searched = runCli(['search', 'SIGTERM', '--store', store, '--json']);
    expect(searched.code).toBe(0);
    expect((JSON.parse(searched.stdout) as { results: unknown[] }).results.length).toBeGreaterThan(0);
  });

  it('rejects a 100 KB query and an empty one', () => {
    const dir = workspace();
    const store = path.join(tempDir(), 'index');
    runCli(['index', dir, '--store', store, '--model', tinyModelDir()]);
    expectProblem(['search', 'q'.repeat(100 * 1024), '--store', store], /query is 102,400 characters long; the limit is 4,096/);
    expectProblem(['search', '   ', '--store', store], /query is empty/);
  });

  it('reports a store written by another version instead of misreading it', () => {
    const dir = workspace();
    const store = path.join(tempDir(), 'index');
    runCli(['index', dir, '--store', store, '--model', tinyModelDir()]);
    const manifest = path.join(store, 'store.json');
    const original = fs.readFileSync(manifest, 'utf8');
    fs.writeFileSync(manifest, original.replace(/"format": \d+/, '"format": 0'));
    expectProblem(['search', 'jobs', '--store', store], /older format 0[\s\S]*fix: Rebuild it/);
    fs.writeFileSync(manifest, original);
    expect(runCli(['search', 'jobs', '--store', store]).code).toBe(0);
  });
});
