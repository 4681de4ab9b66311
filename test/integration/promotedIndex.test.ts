import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Embedder } from '../../src/core/embed/embedder';
import { Store } from '../../src/core/store/store';
import { WorkspaceIndex } from '../../src/core/workspaceIndex';
import { tempDir } from '../helpers/env';
import { testHome, tinyModel, tinyModelDir } from '../helpers/models';

describe('indexing a workspace whose active model was tuned from the index model', () => {
  it('keeps the tuned model active, embeds changes with it and the base, and searches with it', async () => {
    process.env.SPECIALIZE_HOME = testHome;
    const root = tempDir();
    fs.writeFileSync(path.join(root, 'guide.md'), '# Guide\n\nThe scheduler runs every minute.\n');
    const storeDir = path.join(tempDir(), 'index');
    const base = tinyModelDir();
    let index = await WorkspaceIndex.open({ folders: [root], storeDir, model: base, threads: 1 });
    const baseVersion = (await index.indexAll()).vectors.version;
    await index.close();

    // What a promoted `specialize tune` leaves: another model's vectors, linked to the base, active.
    const tunedDir = tinyModelDir({ seed: 5 });
    const store = await Store.open(storeDir);
    const embedder = await Embedder.create({ model: await tinyModel({ seed: 5 }), threads: 1 });
    const tunedVersion = (await store.syncVectors(embedder, tunedDir)).version;
    await embedder.close();
    await store.annotateModel(tunedVersion, { tunedFrom: baseVersion });
    await store.setActiveModel(tunedVersion);
    store.close();

    fs.writeFileSync(path.join(root, 'walrus.md'), '# Walrus\n\nWalrus colonies haul out on sea ice.\n');
    index = await WorkspaceIndex.open({ folders: [root], storeDir, model: base, threads: 1 });
    try {
      const report = await index.indexAll();
      expect(report.vectors.version).toBe(baseVersion);
      const results = await index.searcher().search('walrus on ice', { mode: 'dense', k: 5 });
      expect(results.map((r) => r.path)).toContain('walrus.md');
    } finally {
      await index.close();
    }
    const after = await Store.open(storeDir);
    try {
      expect(after.activeModel?.version).toBe(tunedVersion);
      const passages = await after.passageCount();
      expect(await after.vectorCount(tunedVersion)).toBe(passages);
      expect(await after.vectorCount(baseVersion)).toBe(passages);
    } finally {
      after.close();
    }

    // Indexing with an unrelated model still makes that one active.
    const other = tinyModelDir({ pooling: 'cls' });
    index = await WorkspaceIndex.open({ folders: [root], storeDir, model: other, threads: 1 });
    try {
      const otherVersion = (await index.indexAll()).vectors.version;
      const reopened = await Store.open(storeDir);
      expect(reopened.activeModel?.version).toBe(otherVersion);
      reopened.close();
    } finally {
      await index.close();
    }
  });
});
