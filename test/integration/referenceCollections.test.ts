import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli';
import { sharedDatasets, tempDir } from '../helpers/env';

/**
 * BM25 on the project's real collections must reproduce the reference implementation
 * (shared/datasets/bm25_reference.py: Lucene analysis, k1 0.9, b 0.4). The collections live beside
 * the repository on the project's machines only; elsewhere this suite is skipped, because the
 * collections are not ours to redistribute.
 */
const reference = {
  cranfield: { 'ndcg@10': 0.3513, 'recall@100': 0.7209, 'mrr@10': 0.5078 },
  med: { 'ndcg@10': 0.6706, 'recall@100': 0.7719, 'mrr@10': 0.8858 },
};

describe.skipIf(!fs.existsSync(path.join(sharedDatasets, 'med')))('BM25 on the reference collections', () => {
  for (const [name, expected] of Object.entries(reference)) {
    it(`matches the reference BM25 on ${name}`, () => {
      const result = runCli(['eval', '--dataset', path.join(sharedDatasets, name), '--mode', 'bm25', '--store', path.join(tempDir(), 'store'), '--json']);
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as Record<string, number>;
      for (const [metric, value] of Object.entries(expected)) expect(report[metric]).toBeCloseTo(value, 3);
    });
  }
});
