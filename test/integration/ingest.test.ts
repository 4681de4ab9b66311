import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/core/store/store';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/env';
import { buildIngestTree } from '../helpers/ingestTree';

/**
 * Ingestion end to end through the CLI: which files a real tree yields (dry run) and which
 * passages, with which line ranges and titles, the default model's token budget cuts them into.
 */
describe('specialize index on a real tree', () => {
  const root = buildIngestTree();

  it('--dry-run --json lists every file considered with its decision and reason', () => {
    const result = runCli(['index', root, '--dry-run', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const decisions = JSON.parse(result.stdout) as { path: string; root: string; decision: string; reason: string }[];
    expect(decisions.every((d) => d.root === root)).toBe(true);
    expect(decisions.map((d) => `${d.path} ${d.decision} ${d.reason}`)).toEqual([
      '.env skip secret',
      '.gitignore index text',
      '.specializeignore index text',
      'app.min.js skip minified',
      'build/docs/api.md index markdown',
      'build/out.txt skip gitignore',
      'debug.log skip gitignore',
      'docs/guide.md index markdown',
      'keep.log index text',
      'logo.png skip binary',
      'notebooks/latency.ipynb index notebook',
      'src/loop skip symlink loop',
      'src/pkg/client.ts index code:typescript',
      'src/pkg/steps.py index code:python',
    ]);
  });

  it('stores passages with exact line ranges and titles, and nothing from skipped files', async () => {
    const storeDir = path.join(tempDir(), 'index');
    // The real default model: its tokenizer sets the passage budget (254 tokens).
    // An empty SPECIALIZE_HOME means the default cache, where setup prepared the default model.
    const result = runCli(['index', root, '--store', storeDir, '--json'], { SPECIALIZE_HOME: '' });
    expect(result.code, result.stderr).toBe(0);
    const store = await Store.open(storeDir);
    try {
      const rows = await store.listPassages();
      expect(rows.map((r) => [r.path, r.start_line, r.end_line, r.title])).toEqual([
        ['.gitignore', 1, 3, '.gitignore'],
        ['.specializeignore', 1, 1, '.specializeignore'],
        ['build/docs/api.md', 1, 3, 'Build docs'],
        ['docs/guide.md', 1, 11, 'Guide'],
        ['keep.log', 1, 1, 'keep.log'],
        ['notebooks/latency.ipynb', 7, 25, 'Latency'],
        ['src/pkg/client.ts', 1, 9, 'Client'],
        // Each function is about 150 tokens: one passage each, the module docstring with the first.
        ['src/pkg/steps.py', 1, 13, 'alpha'],
        ['src/pkg/steps.py', 15, 25, 'beta'],
        ['src/pkg/steps.py', 27, 37, 'gamma'],
        ['src/pkg/steps.py', 39, 49, 'delta'],
        ['src/pkg/steps.py', 51, 61, 'epsilon'],
        ['src/pkg/steps.py', 63, 73, 'zeta'],
      ]);
      const notebook = rows.find((r) => r.path.endsWith('.ipynb'));
      expect(notebook?.text).toBe('# Latency\nHow long jobs wait.\n\nprint(42)');
    } finally {
      store.close();
    }
  });
});
