import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunkFile } from '../../../src/core/ingest/chunk';
import { TextTokenizer } from '../../../src/core/embed/tokenize';
import type { ChunkOptions } from '../../../src/core/ingest/types';
import { defaultModel } from '../../helpers/models';
import { expectFaithful, source } from './helpers';

/**
 * The real tokenizer of the default model as `countTokens`: its own count without special tokens
 * (`TextTokenizer.countTokens`), with the room its input leaves for text (`textCapacity`) as limit.
 */
describe('chunking with the default model tokenizer', () => {
  let tokenizer: TextTokenizer;
  beforeAll(async () => {
    const model = await defaultModel();
    tokenizer = TextTokenizer.fromModelDir(model.dir, model.conventions.maxSeqLength);
  });

  const repo = path.resolve(__dirname, '../../..');
  const files = [
    ...fs.readdirSync(path.join(repo, 'test/fixtures/chunk/code')).map((name) => `test/fixtures/chunk/code/${name}`),
    ...fs.readdirSync(path.join(repo, 'test/fixtures/chunk/docs')).map((name) => `test/fixtures/chunk/docs/${name}`),
    ...fs.readdirSync(path.join(repo, 'src/core/ingest/chunk')).filter((name) => name.endsWith('.ts')).map((name) => `src/core/ingest/chunk/${name}`),
    'src/core/embed/tokenize.ts',
  ];

  it.each([254, 64])('keeps every passage within %i model tokens and every line in a passage', async (maxTokens) => {
    const limits: ChunkOptions = { maxTokens: Math.min(maxTokens, tokenizer.textCapacity), countTokens: (text) => tokenizer.countTokens(text) };
    for (const file of files) {
      const text = fs.readFileSync(path.join(repo, file), 'utf8').replace(/\r\n?/g, '\n');
      const sourceFile = source(file.replace(/(\.\w+)\.txt$/, '$1'), text);
      const chunks = await chunkFile(sourceFile, limits);
      expect(chunks.length, file).toBeGreaterThan(0);
      for (const chunk of chunks) expect(limits.countTokens(chunk.text), `${file}:${chunk.startLine}`).toBeLessThanOrEqual(limits.maxTokens);
      if (!file.endsWith('.ipynb')) expectFaithful(sourceFile, chunks, limits, { summaries: true, lineParts: true });
    }
  });
});
