import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Embedder } from '../../src/core/embed/embedder';
import { Searcher } from '../../src/core/search/searcher';
import { STORE_FORMAT } from '../../src/core/store/manifest';
import { Store, vectorTableName, type PassageInput } from '../../src/core/store/store';
import { tempDir } from '../helpers/env';
import { tinyModel } from '../helpers/models';

const passage = (id: string, text: string, extra: Partial<PassageInput> = {}): PassageInput => ({ id, root: '/ws', path: `${id}.md`, title: `Title ${id}`, text, startLine: 1, endLine: 3, ...extra });

const corpus = [
  passage('a', 'Failed jobs are retried with exponential backoff.'),
  passage('b', 'The dead letter queue keeps jobs that failed every retry.'),
  passage('c', 'Cron schedules run in UTC unless a time zone is named.'),
  passage('d', 'On SIGTERM the worker finishes running jobs and exits.'),
];

describe('store', () => {
  it('writes only what changed and removes what vanished', async () => {
    const store = await Store.open(path.join(tempDir(), 'index'), { create: true });
    try {
      expect(await store.syncPassages(corpus)).toEqual({ added: 4, changed: 0, unchanged: 0, removed: 0 });
      expect(await store.syncPassages(corpus)).toEqual({ added: 0, changed: 0, unchanged: 4, removed: 0 });
      const edited = [passage('a', 'Failed jobs are retried with linear backoff.'), ...corpus.slice(1, 3), passage('e', 'New passage about metrics.')];
      expect(await store.syncPassages(edited)).toEqual({ added: 1, changed: 1, unchanged: 2, removed: 1 });
      expect(await store.passageCount()).toBe(4);
      const rows = await store.fetchPassages(['a', 'd', 'e']);
      expect(rows.get('a')?.text).toContain('linear');
      expect(rows.has('d')).toBe(false);
      expect(rows.get('e')).toMatchObject({ path: 'e.md', title: 'Title e', start_line: 1, end_line: 3, root: '/ws' });
      // Ids none of which is indexed (a judged passage that has since changed) find nothing, not an error.
      expect((await store.fetchPassages(['d', 'gone'])).size).toBe(0);
    } finally {
      store.close();
    }
  });

  it('deletes only within the synced roots', async () => {
    const store = await Store.open(path.join(tempDir(), 'index'), { create: true });
    try {
      await store.syncPassages([passage('x', 'first root', { root: '/one' }), passage('y', 'second root', { root: '/two' })]);
      const summary = await store.syncPassages([passage('x2', 'first root again', { root: '/one' })], { roots: ['/one'] });
      expect(summary).toEqual({ added: 1, changed: 0, unchanged: 0, removed: 1 });
      expect([...(await store.fetchPassages(['x', 'x2', 'y'])).keys()].sort()).toEqual(['x2', 'y']);
    } finally {
      store.close();
    }
  });

  it('can limit a sync to the files a watcher reported', async () => {
    const store = await Store.open(path.join(tempDir(), 'index'), { create: true });
    try {
      await store.syncPassages(corpus);
      // a.md was edited (now one passage a2), b.md was deleted; c.md and d.md are out of scope.
      const summary = await store.syncPassages([passage('a2', 'Edited text.', { path: 'a.md' })], {
        files: [
          { root: '/ws', path: 'a.md' },
          { root: '/ws', path: 'b.md' },
        ],
      });
      expect(summary).toEqual({ added: 1, changed: 0, unchanged: 0, removed: 2 });
      expect([...(await store.fetchPassages(['a', 'a2', 'b', 'c', 'd'])).keys()].sort()).toEqual(['a2', 'c', 'd']);
    } finally {
      store.close();
    }
  });

  it('embeds only new or changed passages, keeps one vector table per model version, and searches', async () => {
    const dir = path.join(tempDir(), 'index');
    const [first, second] = [await tinyModel({ seed: 1 }), await tinyModel({ seed: 2 })];
    expect(first.fp32.version).not.toBe(second.fp32.version);
    const a = await Embedder.create({ model: first, threads: 1 });
    const b = await Embedder.create({ model: second, threads: 1 });
    let store = await Store.open(dir, { create: true });
    try {
      await store.syncPassages(corpus);
      expect(await store.syncVectors(a, 'tiny-1')).toMatchObject({ embedded: 4, removed: 0, total: 4 });
      expect(await store.syncVectors(a, 'tiny-1')).toMatchObject({ embedded: 0, removed: 0 });
      await store.syncPassages([passage('a', 'Changed text.'), ...corpus.slice(1, 3)]);
      expect(await store.syncVectors(a, 'tiny-1')).toMatchObject({ embedded: 1, removed: 1, total: 3 });
      expect(await store.syncVectors(b, 'tiny-2')).toMatchObject({ embedded: 3, total: 3 });
      expect(store.models.map((m) => m.version).sort()).toEqual([first.fp32.version, second.fp32.version].sort());
      expect(store.activeModel?.version).toBe(first.fp32.version);

      store.close();
      store = await Store.open(dir);
      const searcher = new Searcher(store, b);
      const results = await searcher.search('dead letter queue retry', { mode: 'hybrid', k: 3 });
      expect(results[0]).toMatchObject({ id: 'b', path: 'b.md', startLine: 1, endLine: 3 });
      expect(results[0]?.scores).toEqual(expect.objectContaining({ rrf: expect.any(Number), dense: expect.any(Number), bm25: expect.any(Number), bm25Rank: 1 }));
      const dense = await searcher.search('anything', { mode: 'dense', k: 10, exact: true });
      expect(dense.map((r) => r.id).sort()).toEqual(['a', 'b', 'c']);
      for (const result of dense) expect(result.scores.dense).toBeCloseTo(result.score, 6);
      const bm25 = await searcher.search('time zone', { mode: 'bm25', k: 10 });
      expect(bm25.map((r) => r.id)).toEqual(['c']);
      expect(bm25[0]?.snippet).toContain('time zone');
    } finally {
      store.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('builds an ANN index past the threshold and finds the same neighbours as exact search', async () => {
    const model = await tinyModel();
    const embedder = await Embedder.create({ model, threads: 1 });
    const store = await Store.open(path.join(tempDir(), 'index'), { create: true, annThreshold: 300 });
    try {
      const many = Array.from({ length: 400 }, (_, i) => passage(`p${i}`, `passage ${i} about ${['queues', 'retries', 'cron', 'metrics', 'workers'][i % 5]} number ${i * 7}`));
      await store.syncPassages(many);
      await store.syncVectors(embedder, 'tiny');
      expect(await store.vectorIndexType(embedder.version)).toBe('IvfHnswSq');
      const query = await embedder.embedOne('retries number 70', 'query');
      const exact = await store.searchDense(embedder.version, query, 10, { exact: true });
      const approximate = await store.searchDense(embedder.version, query, 10);
      const overlap = approximate.filter((r) => exact.some((e) => e.id === r.id)).length;
      expect(overlap).toBeGreaterThanOrEqual(9);
    } finally {
      store.close();
      await embedder.close();
    }
  });

  it('treats a table whose creation was killed before it committed as absent, and recreates it', async () => {
    const model = await tinyModel();
    const embedder = await Embedder.create({ model, threads: 1 });
    const dir = path.join(tempDir(), 'index');
    let store = await Store.open(dir, { create: true });
    try {
      await store.syncPassages(corpus);
      store.close();
      // What a kill during createTable leaves: data files, no committed version.
      fs.mkdirSync(path.join(dir, 'db', `${vectorTableName(embedder.version)}.lance`, 'data'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'db', `${vectorTableName(embedder.version)}.lance`, 'data', 'partial.lance'), 'torn');
      store = await Store.open(dir);
      expect(await store.vectorCount(embedder.version)).toBe(0);
      expect(await store.syncVectors(embedder, 'tiny')).toMatchObject({ embedded: 4, total: 4 });
      expect(await store.vectorCount(embedder.version)).toBe(4);
    } finally {
      store.close();
      await embedder.close();
    }
  });

  it('refuses folders that are not its own and stores from other versions, losing nothing', async () => {
    const notEmpty = tempDir();
    fs.writeFileSync(path.join(notEmpty, 'thesis.tex'), 'precious');
    await expect(Store.open(notEmpty, { create: true })).rejects.toThrow(/not empty and is not a Specialize index/);
    expect(fs.readFileSync(path.join(notEmpty, 'thesis.tex'), 'utf8')).toBe('precious');

    await expect(Store.open(path.join(tempDir(), 'missing'))).rejects.toThrow(/There is no index/);

    const dir = path.join(tempDir(), 'index');
    const store = await Store.open(dir, { create: true });
    await store.syncPassages(corpus);
    store.close();
    const manifestFile = path.join(dir, 'store.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { format: number };
    for (const [format, message] of [
      [STORE_FORMAT + 1, /written by a newer Specialize/],
      [STORE_FORMAT - 1, /older format/],
    ] as const) {
      fs.writeFileSync(manifestFile, JSON.stringify({ ...manifest, format }));
      await expect(Store.open(dir)).rejects.toThrow(message);
    }
    fs.writeFileSync(manifestFile, '{ torn');
    await expect(Store.open(dir)).rejects.toThrow(/damaged/);
    fs.rmSync(manifestFile);
    await expect(Store.open(dir)).rejects.toThrow(/store\.json is missing/);
    // The data itself was never touched.
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    const reopened = await Store.open(dir);
    expect(await reopened.passageCount()).toBe(4);
    reopened.close();
  });
});
