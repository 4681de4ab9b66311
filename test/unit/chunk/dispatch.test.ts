import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkFile, describeKind } from '../../../src/core/ingest/chunk';
import { GRAMMAR_NAMES } from '../../../src/core/ingest/chunk/code/languages';
import { grammarLoadError, grammarWasmFile, loadParser, resolveWasmFile, RUNTIME_WASM, wasmSearchFolders } from '../../../src/core/ingest/chunk/code/grammars';
import { expectFaithful, options, outline, source } from './helpers';
import { tempDir } from '../../helpers/env';

describe('describeKind', () => {
  it('names the chunker of each file by extension or name', () => {
    const kinds: Record<string, string> = {
      'docs/guide.md': 'markdown',
      'README.MARKDOWN': 'markdown',
      'docs/index.rst': 'rst',
      'manual.adoc': 'asciidoc',
      'analysis.ipynb': 'notebook',
      'notes.txt': 'text',
      README: 'text',
      LICENSE: 'text',
      '.env.example': 'text',
      'src/queue.ts': 'code:typescript',
      'src/Board.tsx': 'code:typescript',
      'lib/index.mjs': 'code:javascript',
      'App.jsx': 'code:javascript',
      'tool.py': 'code:python',
      'types.pyi': 'code:python',
      'main.go': 'code:go',
      'lib.rs': 'code:rust',
      'Queue.java': 'code:java',
      'queue.c': 'code:c',
      'queue.h': 'code:c',
      'queue.cc': 'code:cpp',
      'queue.hpp': 'code:cpp',
      'Queue.cs': 'code:csharp',
      'deploy.sh': 'code:other',
      'config.yaml': 'code:other',
      Dockerfile: 'code:other',
      'CMakeLists.txt': 'code:other',
      'windows\\path\\script.rb': 'code:other',
    };
    for (const [file, kind] of Object.entries(kinds)) expect(describeKind(file), file).toBe(kind);
  });
});

describe('chunkFile', () => {
  it('cuts languages without a grammar into 40-line windows that repeat 5 lines', async () => {
    const lines = Array.from({ length: 100 }, (_, i) => `echo "step ${i + 1}"`);
    const file = source('deploy.sh', lines.join('\n'));
    const limits = options(1000);
    const chunks = await chunkFile(file, limits);
    expect(outline(chunks)).toEqual([
      [1, 40, 'deploy.sh'],
      [36, 75, 'deploy.sh'],
      [71, 100, 'deploy.sh'],
    ]);
    expectFaithful(file, chunks, limits);
  });

  it('ends a window at a blank line near its end rather than mid-block', async () => {
    const lines = Array.from({ length: 60 }, (_, i) => (i === 33 ? '' : `key${i + 1}: value`));
    const chunks = await chunkFile(source('values.yaml', lines.join('\n')), options(1000));
    expect(outline(chunks)).toEqual([
      [1, 33, 'values.yaml'],
      [29, 60, 'values.yaml'],
    ]);
  });

  it('never throws on bad content', async () => {
    const nasty = ['\u0000\u0001binary-ish', '{"cells": 5}', '```\nunclosed', '=\n==\n===', 'x'.repeat(10_000), '\ud800 lone surrogate', ''];
    for (const text of nasty) {
      for (const name of ['a.md', 'a.rst', 'a.adoc', 'a.ipynb', 'a.txt', 'a.py', 'a.ts', 'a.c', 'a.sh']) {
        const chunks = await chunkFile(source(name, text), options(50));
        for (const chunk of chunks) expect(chunk.startLine).toBeGreaterThanOrEqual(1);
      }
    }
  });
});

describe('tree-sitter grammars', () => {
  it('finds the runtime and every grammar, next to the bundle first and in node_modules otherwise', () => {
    expect(resolveWasmFile(RUNTIME_WASM)).toMatch(/web-tree-sitter\.wasm$/);
    for (const grammar of GRAMMAR_NAMES) expect(resolveWasmFile(grammarWasmFile(grammar)), grammar).toBeDefined();
    const folders = wasmSearchFolders();
    expect(folders[0]).toBe(path.join(path.resolve(__dirname, '../../../src/core/ingest/chunk/code'), 'tree-sitter'));
    const bundled = tempDir();
    fs.writeFileSync(path.join(bundled, grammarWasmFile('python')), '');
    expect(resolveWasmFile(grammarWasmFile('python'), [bundled, ...folders])).toBe(path.join(bundled, grammarWasmFile('python')));
    expect(resolveWasmFile('tree-sitter-cobol.wasm')).toBeUndefined();
  });

  it('loads every grammar once and parses with it', async () => {
    for (const grammar of GRAMMAR_NAMES) {
      const parser = await loadParser(grammar);
      if (!parser) throw new Error(`${grammar}: ${grammarLoadError(grammar)}`);
      expect(await loadParser(grammar)).toBe(parser);
      const tree = parser.parse('x');
      expect(tree?.rootNode).toBeDefined();
      tree?.delete();
    }
  });
});
