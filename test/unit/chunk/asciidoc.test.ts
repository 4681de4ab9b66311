import { describe, expect, it } from 'vitest';
import { chunkFile } from '../../../src/core/ingest/chunk';
import { asciiDocOutline } from '../../../src/core/ingest/chunk/asciidoc';
import { expectFaithful, fixture, options, outline } from './helpers';

describe('AsciiDoc chunker', () => {
  it('titles sections by = levels and ignores titles inside delimited blocks', async () => {
    const file = fixture('docs/manual.adoc');
    const limits = options(60);
    const chunks = await chunkFile(file, limits);
    expect(outline(chunks)).toEqual([
      [1, 8, 'Queue Service Manual'],
      [10, 17, 'Queue Service Manual > Installation > From source'],
      [19, 25, 'Queue Service Manual > Configuration'],
    ]);
    expectFaithful(file, chunks, limits);
    expect(chunks[1]?.text).toContain('== not a section ==');
  });

  it('reads symmetric titles, Markdown-style titles and example blocks', () => {
    const lines = ['= Doc', '', '== One ==', '', '====', '== in an example block', '====', '', '## Two', '', '==Not a title'];
    expect(asciiDocOutline(lines).headings.map((h) => [h.line + 1, h.level, h.title])).toEqual([
      [1, 1, 'Doc'],
      [3, 2, 'One'],
      [9, 2, 'Two'],
    ]);
  });
});
