import { describe, expect, it } from 'vitest';
import { chunkFile } from '../../../src/core/ingest/chunk';
import { chunkNotebook } from '../../../src/core/ingest/chunk/notebook';
import { parseJsonWithLines } from '../../../src/core/ingest/chunk/jsonLines';
import { fileLines, fixture, options, outline, source } from './helpers';

describe('notebook chunker', () => {
  it('chunks by cell, drops outputs and points at the .ipynb lines of each cell source', async () => {
    const file = fixture('docs/latency.ipynb');
    const chunks = await chunkFile(file, options(60));
    expect(outline(chunks)).toEqual([
      [7, 19, 'Queue latency'],
      [47, 55, 'Cells 3-4'],
      [78, 82, 'Cell 6 (code)'],
    ]);
    expect(chunks[0]?.text).toBe('# Queue latency\n\nHow long jobs wait before a worker claims them.\n\nimport pandas as pd\njobs = pd.read_csv("jobs.csv")');
    const everything = chunks.map((c) => c.text).join('\n');
    for (const output of ['count    1200', 'iVBORw0KGgo', 'Figure size', 'KeyError']) expect(everything).not.toContain(output);
  });

  it('titles single cells by their kind and number, or by the first heading of a Markdown cell', () => {
    const file = fixture('docs/latency.ipynb');
    const limits = options(20);
    const chunks = chunkNotebook(file, limits);
    expect(outline(chunks)).toEqual([
      [7, 9, 'Queue latency'],
      [18, 19, 'Cell 2 (code)'],
      [47, 48, 'Cell 3 (code)'],
      [55, 55, 'Cell 4 (markdown)'],
      [78, 78, 'Cell 6 (code)'],
      [79, 79, 'Cell 6 (code)'],
      [80, 82, 'Cell 6 (code)'],
    ]);
    // Each source line sits on its own JSON line: the range holds exactly the cell's strings.
    const lines = fileLines(file.text);
    for (const chunk of chunks) {
      const strings = lines.slice(chunk.startLine - 1, chunk.endLine).map((line) => JSON.parse(line.trim().replace(/,$/, '')) as string);
      expect(strings.join('').replace(/\n$/, '')).toBe(chunk.text);
    }
    for (const chunk of chunks) expect(limits.countTokens(chunk.text)).toBeLessThanOrEqual(20);
  });

  it('maps every line of a source stored as one string to the line of that string', () => {
    const text = JSON.stringify({ cells: [{ cell_type: 'code', source: 'a = 1\nb = 2\n' }], nbformat: 4 }, null, 1);
    const line = fileLines(text).findIndex((l) => l.includes('"source"')) + 1;
    expect(outline(chunkNotebook(source('one.ipynb', text), options(60)))).toEqual([[line, line, 'Cell 1 (code)']]);
  });

  it('reads nbformat 3 worksheets', () => {
    const text = JSON.stringify({ worksheets: [{ cells: [{ cell_type: 'code', input: ['x = 1\n', 'print(x)'] }] }], nbformat: 3 }, null, 1);
    const chunks = chunkNotebook(source('old.ipynb', text), options(60));
    expect(chunks.map((c) => c.text)).toEqual(['x = 1\nprint(x)']);
  });

  it('falls back to plain text for malformed JSON or JSON that is not a notebook', async () => {
    const broken = source('broken.ipynb', '{\n "cells": [\n  {"cell_type": "code", "source": ["x = 1"\n');
    expect(outline(await chunkFile(broken, options(60)))).toEqual([[1, 3, 'broken.ipynb']]);
    const other = source('data.ipynb', '[1, 2, 3]\n');
    expect(outline(await chunkFile(other, options(60)))).toEqual([[1, 1, 'data.ipynb']]);
  });
});

describe('JSON with line numbers', () => {
  it('parses strict JSON and keeps the line each value starts on', () => {
    const node = parseJsonWithLines('{\n "a": [\n  "x\\ny",\n  2.5e1, true, null\n ],\n "b": {}\n}');
    expect(node.kind).toBe('object');
    if (node.kind !== 'object') return;
    const a = node.members.get('a');
    expect(a?.line).toBe(2);
    expect(a?.kind === 'array' ? a.items.map((item) => [item.kind, item.line, 'value' in item ? item.value : undefined]) : []).toEqual([
      ['string', 3, 'x\ny'],
      ['scalar', 4, 25],
      ['scalar', 4, true],
      ['scalar', 4, null],
    ]);
  });

  it('rejects what JSON.parse rejects', () => {
    for (const bad of ['{"a": 1,}', "{'a': 1}", '{"a": "line\nbreak"}', '[1 2]', '{"a": 1} x', '']) {
      expect(() => parseJsonWithLines(bad), bad).toThrow(SyntaxError);
    }
  });
});
