import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { changedSettings, RunDirectory } from '../../src/core/tune/runDirectory';
import { tempDir } from '../helpers/env';

const budget = { name: 'small', maxPassages: 40, epochs: 4, candidates: 8 };

describe('a run folder compared with the settings it is resumed with', () => {
  it('names each changed field, nested budget fields by their path', () => {
    expect(changedSettings({ types: ['question'], budget }, { types: ['question'], budget })).toEqual([]);
    expect(changedSettings({ types: ['question', 'keywords'], budget }, { types: ['question'], budget: { ...budget, epochs: 2 } })).toEqual([
      'types: ["question","keywords"] → ["question"]',
      'budget.epochs: 4 → 2',
    ]);
  });

  it('resumes a run whose budget recorded a field this version no longer has, and refuses a field it adds', async () => {
    const dir = path.join(tempDir('specialize-run-settings-'), 'tune');
    await RunDirectory.open(dir, { budget: { ...budget, microBatch: 16 } });
    await expect(RunDirectory.open(dir, { budget })).resolves.toBeInstanceOf(RunDirectory);
    await expect(RunDirectory.open(dir, { budget: { ...budget, microBatch: 16, listLength: 20 } })).rejects.toThrow(
      /was started with other settings \(budget\.listLength: not set → 20\)/,
    );
    // The refusal leaves the run as it was.
    expect((JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as { settings: unknown }).settings).toEqual({ budget: { ...budget, microBatch: 16 } });
  });
});
