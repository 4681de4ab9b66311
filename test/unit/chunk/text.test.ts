import { describe, expect, it } from 'vitest';
import { chunkFile } from '../../../src/core/ingest/chunk';
import { chunkText } from '../../../src/core/ingest/chunk/text';
import { expectFaithful, fixture, options, outline, source } from './helpers';

describe('plain text chunker', () => {
  it('groups blank-line separated paragraphs up to the target size', async () => {
    const file = fixture('docs/notes.txt');
    const limits = options(60);
    const chunks = await chunkFile(file, limits);
    expect(outline(chunks)).toEqual([
      [1, 4, 'notes.txt'],
      [6, 9, 'notes.txt'],
    ]);
    expectFaithful(file, chunks, limits);
  });

  it('keeps a short text whole', () => {
    const file = fixture('docs/notes.txt');
    expect(outline(chunkText(file, options(200)))).toEqual([[1, 9, 'notes.txt']]);
  });

  it('merges many one-line paragraphs instead of emitting tiny passages', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `Item ${i + 1} is ready.`);
    const file = source('list.txt', lines.join('\n\n'));
    const limits = options(60);
    const chunks = chunkText(file, limits);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(limits.countTokens(chunk.text)).toBeGreaterThanOrEqual(20);
    expectFaithful(file, chunks, limits);
  });
});
