import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Searcher } from '../../src/core/search/searcher';
import { Store } from '../../src/core/store/store';
import { startCli, runCli } from '../helpers/cli';
import { tempDir } from '../helpers/env';
import { tinyModel, tinyModelDir } from '../helpers/models';

const FILES = 6000;

describe('a kill -9 in the middle of indexing', () => {
  it('leaves a store that opens consistently and a rerun that finishes only the rest', async () => {
    const model = await tinyModel();
    const folder = tempDir();
    for (let i = 0; i < FILES; i += 1) fs.writeFileSync(path.join(folder, `note-${i}.txt`), `Note ${i}: jobs, queues and retries, case ${i * 31}.\n`);
    const storeDir = path.join(tempDir(), 'index');

    const child = startCli(['index', folder, '--store', storeDir, '--model', tinyModelDir(), '--threads', '1']);
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    let killedAt = -1;
    // Poll as a concurrent reader (LanceDB readers see committed versions only) and kill the writer
    // as soon as some, but not all, embeddings are committed.
    while (killedAt < 0 && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 40));
      if (!fs.existsSync(path.join(storeDir, 'store.json'))) continue;
      const reader = await Store.open(storeDir).catch(() => undefined);
      const count = reader ? await reader.vectorCount(model.fp32.version) : 0;
      reader?.close();
      if (count > 0 && count < FILES) {
        child.kill('SIGKILL');
        killedAt = count;
      }
    }
    await exited;
    expect(killedAt, 'the writer finished before it could be killed').toBeGreaterThan(0);

    const store = await Store.open(storeDir);
    try {
      expect(await store.passageCount()).toBe(FILES);
      const stored = await store.vectorCount(model.fp32.version);
      // Embeddings are committed in batches; whatever was committed is intact.
      expect(stored).toBeGreaterThanOrEqual(killedAt);
      expect(stored).toBeLessThan(FILES);
      const results = await new Searcher(store, undefined).search('retries case 31', { mode: 'bm25', k: 3 });
      expect(results).toHaveLength(3);
    } finally {
      store.close();
    }

    const rerun = runCli(['index', folder, '--store', storeDir, '--model', tinyModelDir(), '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    const report = JSON.parse(rerun.stdout) as { passages: { unchanged: number }; vectors: { embedded: number; total: number } };
    expect(report.passages.unchanged).toBe(FILES);
    expect(report.vectors.total).toBe(FILES);
    expect(report.vectors.embedded).toBeLessThan(FILES);
    const finished = await Store.open(storeDir);
    expect(await finished.vectorCount(model.fp32.version)).toBe(FILES);
    finished.close();
  });
});
