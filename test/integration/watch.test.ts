import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchFolders, type FolderWatch } from '../../src/core/watch/watchFolders';
import { WorkspaceIndex } from '../../src/core/workspaceIndex';
import { tempDir } from '../helpers/env';
import { testHome, tinyModelDir } from '../helpers/models';

describe('watching a workspace', () => {
  let index: WorkspaceIndex | undefined;
  let watch: FolderWatch | undefined;
  const errors: unknown[] = [];
  afterEach(async () => {
    expect(errors).toEqual([]);
    errors.length = 0;
    await watch?.close();
    await index?.close();
  });

  async function start(): Promise<string> {
    process.env.SPECIALIZE_HOME = testHome;
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'docs', 'old'), { recursive: true });
    fs.writeFileSync(path.join(root, 'docs', 'guide.md'), '# Guide\n\nThe scheduler runs every minute.\n');
    fs.writeFileSync(path.join(root, 'docs', 'old', 'notes.md'), '# Notes\n\nLegacy zeppelin configuration.\n');
    fs.writeFileSync(path.join(root, '.gitignore'), 'scratch/\n');
    index = await WorkspaceIndex.open({ folders: [root], storeDir: path.join(tempDir(), 'index'), model: tinyModelDir(), threads: 1 });
    await index.indexAll();
    watch = await watchFolders(index, { debounceMs: 50, onError: (error) => errors.push(error) });
    return root;
  }

  /** Waits (bounded) until BM25 finds `word`, or stops finding it. */
  async function until(word: string, present: boolean): Promise<string[]> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      await watch?.idle();
      const found = (await (index as WorkspaceIndex).searcher().search(word, { mode: 'bm25', k: 5 })).map((r) => r.path);
      if (found.length > 0 === present || Date.now() > deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('indexes created and edited files and forgets deleted files and folders', async () => {
    const root = await start();
    fs.writeFileSync(path.join(root, 'docs', 'new.md'), '# New\n\nQuokka migration steps.\n');
    expect(await until('quokka', true)).toEqual(['docs/new.md']);

    fs.writeFileSync(path.join(root, 'docs', 'guide.md'), '# Guide\n\nThe scheduler runs every hour with walrus precision.\n');
    expect(await until('walrus', true)).toEqual(['docs/guide.md']);
    expect(await until('minute', false)).toEqual([]);

    fs.rmSync(path.join(root, 'docs', 'new.md'));
    expect(await until('quokka', false)).toEqual([]);
    fs.rmSync(path.join(root, 'docs', 'old'), { recursive: true });
    expect(await until('zeppelin', false)).toEqual([]);
  });

  it('leaves ignored files out and embeds only what changed', async () => {
    const root = await start();
    fs.mkdirSync(path.join(root, 'scratch'));
    fs.writeFileSync(path.join(root, 'scratch', 'draft.md'), 'Narwhal draft.\n');
    fs.writeFileSync(path.join(root, 'docs', 'visible.md'), 'Narwhal final.\n');
    expect(await until('narwhal', true)).toEqual(['docs/visible.md']);
    const report = await (index as WorkspaceIndex).update([path.join(root, 'docs', 'visible.md')]);
    expect(report.vectors.embedded).toBe(0);
    expect(report.passages.unchanged).toBe(1);
  });
});
