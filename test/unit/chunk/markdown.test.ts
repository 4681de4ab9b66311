import { describe, expect, it } from 'vitest';
import { chunkFile } from '../../../src/core/ingest/chunk';
import { chunkMarkdown, markdownOutline } from '../../../src/core/ingest/chunk/markdown';
import { expectFaithful, fixture, options, outline, source } from './helpers';

const headings = (text: string) => markdownOutline(text.split('\n')).headings.map((h) => [h.line + 1, h.level, h.title]);

describe('Markdown chunker', () => {
  it('titles sections by heading path, with setext headings, front matter and fenced code handled', async () => {
    const file = fixture('docs/deployment.md');
    const limits = options(60);
    const chunks = await chunkFile(file, limits);
    expect(outline(chunks)).toEqual([
      [1, 8, 'Deployment'],
      [10, 20, 'Deployment > Docker'],
      [22, 24, 'Deployment > Kubernetes'],
      [26, 29, 'Deployment > Kubernetes > Probes'],
      [31, 33, 'Deployment > Kubernetes > Scaling'],
      [35, 38, 'Troubleshooting'],
      [40, 43, 'Troubleshooting > Common errors'],
    ]);
    expectFaithful(file, chunks, limits);
    // The shell comment and the "##" line inside the fence stay in the Docker passage.
    expect(chunks[1]?.text).toContain('# build with the release profile');
    expect(chunks[1]?.text).toContain('## not a heading either');
  });

  it('merges small sections up to the target, titled by the heading they share', async () => {
    const file = fixture('docs/deployment.md');
    const limits = options(200);
    const chunks = chunkMarkdown(file, limits);
    expect(outline(chunks)).toEqual([
      [1, 33, 'Deployment'],
      [35, 43, 'Troubleshooting'],
    ]);
    expectFaithful(file, chunks, limits);
  });

  it('splits a long section on paragraphs, repeating a short last paragraph as overlap', () => {
    const paragraph = (n: number) => `Step ${n} of the install runs the setup script again.`; // 12 words
    const lines = ['# Guide', '', '## Install', ''];
    for (let n = 1; n <= 8; n += 1) lines.push(paragraph(n), '');
    lines.push('Done.');
    const file = source('install.md', lines.join('\n'));
    const limits = options(80);
    const chunks = chunkMarkdown(file, limits);
    // Step 4 (line 11) ends the first passage and opens the second.
    expect(outline(chunks)).toEqual([
      [1, 11, 'Guide > Install'],
      [11, 21, 'Guide > Install'],
    ]);
    expectFaithful(file, chunks, limits);
  });

  it('finds ATX and setext headings the way CommonMark does', () => {
    const text = [
      '# Title #', // 1: closing hashes dropped
      '#5 is not a heading',
      '    # indented code, not a heading',
      '',
      '## [Linked](https://example.com) `code` title',
      'Setext title',
      '============',
      '',
      '---', // 9: thematic break after a blank line
      '',
      '- list item',
      '---', // 12: under a list item: not a setext underline
      '',
      '~~~',
      '# inside a tilde fence',
      '~~~',
      '<!--',
      '# inside an HTML comment',
      '-->',
      'Two line',
      'setext title',
      '------------',
      '###### Six',
      '####### Seven is text',
    ].join('\n');
    expect(headings(text)).toEqual([
      [1, 1, 'Title'],
      [5, 2, 'Linked `code` title'],
      [6, 1, 'Setext title'],
      [20, 2, 'Two line setext title'],
      [23, 6, 'Six'],
    ]);
  });

  it('treats everything after an unclosed fence as code', () => {
    expect(headings(['# Real', '```', '# not real', ''].join('\n'))).toEqual([[1, 1, 'Real']]);
  });

  it('does not take YAML or TOML front matter for a setext heading', () => {
    expect(headings(['---', 'title: x', '---', 'Text', ''].join('\n'))).toEqual([]);
    expect(headings(['+++', 'title = "x"', '+++', '# After'].join('\n'))).toEqual([[4, 1, 'After']]);
  });

  it('titles text before the first heading by the file path', async () => {
    const file = source('docs/intro.md', 'Just an introduction.\n\nNo headings here.\n');
    expect(outline(await chunkFile(file, options(60)))).toEqual([[1, 3, 'docs/intro.md']]);
  });
});
