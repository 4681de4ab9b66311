import { describe, expect, it, vi } from 'vitest';
import { chunkFile } from '../../../src/core/ingest/chunk';
import { expectFaithful, fixture, options, outline } from './helpers';

// As if the .wasm files were missing from the bundle and from node_modules.
vi.mock('../../../src/core/ingest/chunk/code/grammars', () => ({ loadParser: () => Promise.resolve(undefined) }));

describe('code without a grammar', () => {
  it('falls back to line windows when the grammar cannot be loaded', async () => {
    const file = fixture('code/queue.py.txt');
    const limits = options(400);
    const chunks = await chunkFile(file, limits);
    expect(outline(chunks)).toEqual([
      [1, 34, 'queue.py'],
      [31, 45, 'queue.py'],
    ]);
    expectFaithful(file, chunks, limits);
  });
});
