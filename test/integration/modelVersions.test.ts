import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Embedder } from '../../src/core/embed/embedder';
import { SpecializeError } from '../../src/core/errors';
import type { ModelEvaluation } from '../../src/core/store/manifest';
import { Store, type PassageInput } from '../../src/core/store/store';
import type { ModelListRow } from '../../src/cli/modelList';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/env';
import { testHome, tinyModel, tinyModelDir } from '../helpers/models';
import { resolveModel } from '../../src/core/models/resolver';

const passage = (id: string, text: string): PassageInput => ({ id, root: '/ws', path: `${id}.md`, text });
const corpus = [passage('a', 'Failed jobs are retried with exponential backoff.'), passage('b', 'On SIGTERM the worker finishes running jobs.')];

const evaluation = (ndcg: number): ModelEvaluation => ({
  evaluatedAt: '2025-05-01T10:00:00.000Z',
  queries: 120,
  source: 'held-out synthetic',
  metrics: { 'ndcg@10': ndcg, 'recall@100': 0.9, 'mrr@10': 0.5 },
});

/** A store with two model versions of the tiny test model (seeds 1 and 2); the first is active. */
async function twoVersionStore(): Promise<{ dir: string; base: string; tuned: string }> {
  const dir = path.join(tempDir(), 'index');
  const [first, second] = [await tinyModel({ seed: 1 }), await tinyModel({ seed: 2 })];
  const embedders = [await Embedder.create({ model: first, threads: 1 }), await Embedder.create({ model: second, threads: 1 })] as const;
  const store = await Store.open(dir, { create: true });
  try {
    await store.syncPassages(corpus);
    await store.syncVectors(embedders[0], tinyModelDir({ seed: 1 }));
    await store.syncVectors(embedders[1], tinyModelDir({ seed: 2 }));
  } finally {
    store.close();
    await Promise.all(embedders.map((embedder) => embedder.close()));
  }
  return { dir, base: first.fp32.version, tuned: second.fp32.version };
}

describe('model version notes in the store', () => {
  it('records labels, the base and evaluations, keeps them across reopening and re-embedding, and refuses bad ones', async () => {
    const { dir, base, tuned } = await twoVersionStore();
    // What an older Specialize wrote: entries without label, tunedFrom or evaluation still read.
    const written = JSON.parse(fs.readFileSync(path.join(dir, 'store.json'), 'utf8')) as { models: Record<string, object> };
    expect(Object.keys(written.models[tuned] ?? {}).sort()).toEqual(['dimension', 'modelId', 'precision', 'table', 'updated', 'version']);

    let store = await Store.open(dir);
    try {
      expect(store.models.find((m) => m.version === tuned)?.evaluation).toBeUndefined();
      await store.annotateModel(tuned, { label: '  tuned on docs  ', tunedFrom: base });
      await store.recordEvaluation(tuned, { ...evaluation(0.61), baseVersion: base, run: '/runs/1' });
      await store.recordEvaluation(base, evaluation(0.52));
      store.close();

      store = await Store.open(dir);
      expect(store.models.find((m) => m.version === tuned)).toMatchObject({ label: 'tuned on docs', tunedFrom: base, evaluation: { ...evaluation(0.61), baseVersion: base, run: '/runs/1' } });
      // Re-embedding refreshes the vectors' entry, not what was said about the version.
      const embedder = await Embedder.create({ model: await tinyModel({ seed: 2 }), threads: 1 });
      try {
        await store.syncPassages([...corpus, passage('c', 'Cron schedules run in UTC.')]);
        await store.syncVectors(embedder, tinyModelDir({ seed: 2 }));
      } finally {
        await embedder.close();
      }
      expect(store.models.find((m) => m.version === tuned)).toMatchObject({ label: 'tuned on docs', tunedFrom: base, evaluation: { queries: 120 } });

      await store.annotateModel(tuned, { label: null });
      expect(store.models.find((m) => m.version === tuned)).not.toHaveProperty('label');
      expect(store.models.find((m) => m.version === tuned)?.tunedFrom).toBe(base);

      await expect(store.recordEvaluation('nope', evaluation(0.5))).rejects.toThrow(/no model version nope/);
      await expect(store.recordEvaluation('nope', evaluation(0.5))).rejects.toMatchObject({ fix: `Known versions: ${base}, ${tuned}.` });
      await expect(store.annotateModel('nope', { label: 'x' })).rejects.toThrow(SpecializeError);
      await expect(store.recordEvaluation(tuned, evaluation(Number.NaN))).rejects.toThrow(/ndcg@10 is NaN/);
      await expect(store.recordEvaluation(tuned, { ...evaluation(0.5), queries: 0 })).rejects.toThrow(/queries is 0/);
      await expect(store.annotateModel(tuned, { label: 'two\nlines' })).rejects.toThrow(/not one line/);
      await expect(store.annotateModel(tuned, { tunedFrom: tuned })).rejects.toThrow(/cannot be tuned from itself/);
      expect(store.findModel(tuned.slice(0, 12)).version).toBe(tuned);
      expect(() => store.findModel('tiny-mean-')).toThrow(/matches 2 model versions/);
    } finally {
      store.close();
    }
  });
});

describe('specialize models list and specialize use', () => {
  let dir: string;
  let base: string;
  let tuned: string;

  beforeAll(async () => {
    ({ dir, base, tuned } = await twoVersionStore());
    const store = await Store.open(dir);
    try {
      await store.annotateModel(tuned, { label: 'tuned', tunedFrom: base });
      await store.recordEvaluation(tuned, evaluation(0.6123));
      await store.recordEvaluation(base, evaluation(0.5));
    } finally {
      store.close();
    }
  });

  const listJson = (): ModelListRow[] => {
    const result = runCli(['models', 'list', '--store', dir, '--json']);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as ModelListRow[];
  };

  it('lists both versions with the active one marked, the base and the metrics', () => {
    const result = runCli(['models', 'list', '--store', dir]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/version\s+label\s+model\s+precision\s+dims\s+tuned from\s+nDCG@10\s+R@100\s+MRR@10\s+evaluated on/);
    // Each row starts with the active marker (or a space) and two spaces, then the version.
    const baseLine = lines.find((line) => line.slice(3).startsWith(base));
    const tunedLine = lines.find((line) => line.slice(3).startsWith(tuned));
    expect(baseLine).toMatch(new RegExp(`^\\*  ${base}\\s+-\\s+\\S*tiny-mean-1\\s+fp32\\s+32\\s+-\\s+0\\.5000\\s+0\\.9000\\s+0\\.5000\\s+120 queries, held-out synthetic, 2025-05-01$`));
    expect(tunedLine).toMatch(new RegExp(`^   ${tuned}\\s+tuned\\s+\\S*tiny-mean-2\\s+fp32\\s+32\\s+${base}\\s+0\\.6123`));

    // Plain `specialize models` is `models list`.
    expect(runCli(['models', '--store', dir]).stdout).toBe(result.stdout);

    const rows = listJson();
    expect(rows.map((row) => [row.version, row.active])).toEqual([
      [base, true],
      [tuned, false],
    ]);
    expect(rows[0]).toMatchObject({ label: null, tunedFrom: null, precision: 'fp32', dimension: 32, evaluation: { metrics: { 'ndcg@10': 0.5 } } });
    expect(rows[1]).toMatchObject({ label: 'tuned', tunedFrom: base, evaluation: evaluation(0.6123) });
  });

  it('switches the active version by a unique prefix, says what was and is active, and list shows it', () => {
    const switched = runCli(['use', tuned.slice(0, 'tiny-mean-2'.length), '--store', dir]);
    expect(switched.code, switched.stderr).toBe(0);
    expect(switched.stdout).toBe(`was  ${base}\nnow  ${tuned} (tuned)\n`);
    expect(listJson().map((row) => [row.version, row.active])).toEqual([
      [base, false],
      [tuned, true],
    ]);

    const again = runCli(['use', tuned, '--store', dir, '--json']);
    expect(JSON.parse(again.stdout)).toEqual({ previous: tuned, active: tuned });
    const back = runCli(['use', base, '--store', dir]);
    expect(back.stdout).toBe(`was  ${tuned} (tuned)\nnow  ${base}\n`);
    expect(listJson().find((row) => row.active)?.version).toBe(base);
  });

  it('refuses an unknown version, listing the known ones, and an ambiguous prefix, listing its matches', () => {
    const unknown = runCli(['use', 'no-such-version', '--store', dir]);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain('has no model version no-such-version');
    expect(unknown.stderr).toContain(`Known versions: ${base}, ${tuned}.`);

    const ambiguous = runCli(['use', 'tiny-mean-', '--store', dir]);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(`"tiny-mean-" matches 2 model versions`);
    expect(ambiguous.stderr).toContain(`${base}, ${tuned}`);
    expect(ambiguous.stderr).toContain('Type more of the version');
    expect(listJson().find((row) => row.active)?.version).toBe(base);
  });

  it('warns when the chosen version lacks vectors for some passages', async () => {
    const store = await Store.open(dir);
    try {
      await store.syncPassages([...corpus, passage('c', 'Cron schedules run in UTC.')]);
    } finally {
      store.close();
    }
    const switched = runCli(['use', tuned, '--store', dir]);
    expect(switched.code, switched.stderr).toBe(0);
    expect(switched.stderr).toContain(`1 of 3 passages have no vectors for ${tuned} yet`);
    expect(switched.stderr).toContain('--model');
  });

  it('keeps `models prepare` working beside the default list subcommand', () => {
    const result = runCli(['models', 'prepare', tinyModelDir({ seed: 1 }), '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ dir: tinyModelDir({ seed: 1 }) });
    // For people, the model's ONNX file is "onnx": some models ship it quantized, so "fp32" could be untrue.
    const text = runCli(['models', 'prepare', tinyModelDir({ seed: 1 })]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^ {2}onnx {8}\S+\.onnx {2}\[[^\]]+\]$/m);
    expect(text.stdout).not.toContain('fp32');
  });

  it('says when a store has no model versions yet, and needs a store that exists', async () => {
    const emptyDir = path.join(tempDir(), 'empty');
    (await Store.open(emptyDir, { create: true })).close();
    const empty = runCli(['models', 'list', '--store', emptyDir]);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toContain('has no model versions yet');
    expect(runCli(['models', 'list', '--store', emptyDir, '--json']).stdout).toBe('[]\n');
    const missing = runCli(['use', 'x', '--store', path.join(tempDir(), 'nothing')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('There is no index at');
  });
});

describe('specialize models remove', () => {
  it('removes a version that is not active with its vectors, refuses the active one, and deletes only a model copy the store owns', async () => {
    const { dir, base, tuned } = await twoVersionStore();
    // A third version whose model is a copy inside the store, as tune makes (recorded relative to it).
    const copy = path.join(dir, 'models', 'abc', 'tuned');
    fs.cpSync(tinyModelDir({ seed: 3 }), copy, { recursive: true });
    const store = await Store.open(dir);
    const embedder = await Embedder.create({ model: await resolveModel(copy, { home: testHome }), threads: 1 });
    let owned: string;
    try {
      owned = (await store.syncVectors(embedder, copy)).version;
    } finally {
      await embedder.close();
      store.close();
    }
    const tableOf = (version: string) => (JSON.parse(fs.readFileSync(path.join(dir, 'store.json'), 'utf8')) as { models: Record<string, { table: string }> }).models[version]?.table ?? '';
    const tunedTable = tableOf(tuned);
    expect(fs.existsSync(path.join(dir, 'db', `${tunedTable}.lance`))).toBe(true);

    const active = runCli(['models', 'remove', base, '--store', dir]);
    expect(active.code).toBe(2);
    expect(active.stderr).toContain(`${base} is the active model`);
    expect(active.stderr).toContain('specialize use <version>');

    const removed = runCli(['models', 'remove', tuned.slice(0, 12), '--store', dir, '--json']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse(removed.stdout)).toEqual({ removed: tuned, modelFolder: null });
    expect(fs.existsSync(path.join(dir, 'db', `${tunedTable}.lance`))).toBe(false);
    // A model folder outside the store is the user's: it stays.
    expect(fs.existsSync(tinyModelDir({ seed: 2 }))).toBe(true);

    const removedOwned = runCli(['models', 'remove', owned, '--store', dir]);
    expect(removedOwned.code, removedOwned.stderr).toBe(0);
    expect(removedOwned.stdout).toBe(`removed ${owned}: its vectors and its model copy ${copy}\n`);
    expect(fs.existsSync(path.join(dir, 'models', 'abc'))).toBe(false);

    const listed = JSON.parse(runCli(['models', 'list', '--store', dir, '--json']).stdout) as ModelListRow[];
    expect(listed.map((row) => row.version)).toEqual([base]);
    const search = runCli(['search', 'retried', '--store', dir, '--json']);
    expect(search.code, search.stderr).toBe(0);
    const again = runCli(['models', 'remove', tuned, '--store', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`has no model version ${tuned}`);
  });
});
