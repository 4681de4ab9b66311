import { describe, expect, it } from 'vitest';
import { chunkFile } from '../../../src/core/ingest/chunk';
import { rstOutline } from '../../../src/core/ingest/chunk/rst';
import { expectFaithful, fixture, options, outline } from './helpers';

const headings = (lines: string[]) => rstOutline(lines).headings.map((h) => [h.line + 1, h.level, h.title]);

describe('reStructuredText chunker', () => {
  it('titles sections by over- and underlined titles, levels in order of first appearance', async () => {
    const file = fixture('docs/guide.rst');
    const limits = options(60);
    const chunks = await chunkFile(file, limits);
    expect(outline(chunks)).toEqual([
      [1, 5, 'Queue Service'],
      [7, 10, 'Queue Service > Installation'],
      [12, 19, 'Queue Service > Installation > From source'],
      [21, 24, 'Queue Service > Configuration'],
      [26, 29, 'Queue Service > Configuration > Workers'],
    ]);
    expectFaithful(file, chunks, limits);
    // The underlined line inside the indented literal block is code, not a title.
    expect(chunks[2]?.text).toContain('    Not a title');
  });

  it('tells an overlined style from the same character underlined only', () => {
    expect(headings(['=====', 'Top', '=====', '', 'Sub', '===', '', 'Other top', '=========='])).toEqual([
      [1, 1, 'Top'],
      [5, 2, 'Sub'],
      [8, 2, 'Other top'],
    ]);
  });

  it('ignores transitions, short underlines and titles that do not start a block', () => {
    expect(
      headings([
        'Paragraph text.',
        '',
        '----------',
        '',
        'Long title with a short underline',
        '---',
        '',
        'A paragraph line',
        'that ends underlined',
        '====================',
        '',
        'Fine',
        '----',
      ]),
    ).toEqual([[12, 1, 'Fine']]);
  });
});
