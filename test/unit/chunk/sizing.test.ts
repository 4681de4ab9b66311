import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkFile } from '../../../src/core/ingest/chunk';
import { makeBudget } from '../../../src/core/ingest/chunk/budget';
import { splitLongLine } from '../../../src/core/ingest/chunk/split';
import { expectFaithful, options, outline, source } from './helpers';

describe('size limits', () => {
  it('cuts an over-long single line into parts of that line, keeping its line number and every character', async () => {
    const words = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const file = source('long.txt', `Intro line.\n\n${words}\n\nOutro line.\n`);
    const limits = options(50);
    const chunks = await chunkFile(file, limits);
    const parts = chunks.filter((c) => c.startLine === 3);
    expect(parts.length).toBeGreaterThan(8);
    expect(parts.every((c) => c.endLine === 3)).toBe(true);
    expect(parts.map((c) => c.text).join('')).toBe(words);
    expect(outline(chunks.filter((c) => c.startLine !== 3))).toEqual([
      [1, 1, 'long.txt'],
      [5, 5, 'long.txt'],
    ]);
    expectFaithful(file, chunks, limits, { lineParts: true });
  });

  it('cuts a minified line of code the same way', async () => {
    const line = Array.from({ length: 300 }, (_, i) => `function f${i}(a){return a+${i}}`).join(';');
    const file = source('bundle.min.js', line);
    const limits = options(64);
    const chunks = await chunkFile(file, limits);
    expect(chunks.map((c) => c.text).join('')).toBe(line);
    expectFaithful(file, chunks, limits, { lineParts: true });
  });

  it('never splits a surrogate pair, even without whitespace', () => {
    const line = '😀'.repeat(200);
    const countCodeUnits = (text: string) => text.length;
    const parts = splitLongLine(line, 7, makeBudget({ maxTokens: 25, countTokens: countCodeUnits }), 'emoji');
    expect(parts.map((p) => p.text).join('')).toBe(line);
    for (const part of parts) {
      expect(part.text.length).toBeLessThanOrEqual(25);
      expect(part.text.length % 2).toBe(0);
      expect(part.startLine).toBe(7);
    }
  });

  it('keeps every passage within the limit for every kind of file', async () => {
    const tight = options(24);
    const fixtures = path.resolve(__dirname, '../../fixtures/chunk');
    for (const folder of ['code', 'docs']) {
      for (const name of fs.readdirSync(path.join(fixtures, folder))) {
        const text = fs.readFileSync(path.join(fixtures, folder, name), 'utf8').replace(/\r\n?/g, '\n');
        const file = source(name.replace(/(\.\w+)\.txt$/, '$1'), text);
        const chunks = await chunkFile(file, tight);
        for (const chunk of chunks) expect(tight.countTokens(chunk.text), `${name} ${chunk.startLine}-${chunk.endLine}`).toBeLessThanOrEqual(24);
        if (!name.endsWith('.ipynb')) expectFaithful(file, chunks, tight, { summaries: true, lineParts: true });
      }
    }
  });

  it('counts lines of a CRLF file as the file has them once the scanner has normalised it', async () => {
    const raw = fs.readFileSync(path.resolve(__dirname, '../../fixtures/chunk/docs/crlf.md'), 'utf8');
    expect(raw).toContain('\r\n');
    const rawLines = raw.split('\r\n');
    const file = source('crlf.md', raw.replace(/\r\n?/g, '\n'));
    const chunks = await chunkFile(file, options(30));
    expect(outline(chunks)).toEqual([
      [1, 3, 'Windows notes'],
      [5, 7, 'Windows notes > Paths'],
    ]);
    for (const chunk of chunks) expect(chunk.text.split('\n')[0]).toBe(rawLines[chunk.startLine - 1]);
    // A stray CR left in the text stays inside its line instead of shifting the lines after it.
    expect(outline(await chunkFile(source('crlf.md', raw), options(30)))).toEqual(outline(chunks));
  });

  it('merges small neighbours instead of emitting tiny passages', async () => {
    const lines: string[] = [];
    for (let n = 1; n <= 12; n += 1) lines.push(`def f${n}(x):`, `    return x + ${n}`, '');
    const file = source('small.py', lines.join('\n'));
    const limits = options(100);
    const chunks = await chunkFile(file, limits);
    expect(outline(chunks)).toEqual([
      [1, 20, 'f1, f2, f3, …'],
      [22, 35, 'f8, f9, f10, …'],
    ]);
    expectFaithful(file, chunks, limits);
  });
});
