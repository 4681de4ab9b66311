import { describe, expect, it } from 'vitest';
import { checkFileName, hasGeneratedMarker, inspectContent, looksBinary, looksMinified } from '../../../src/core/ingest/fileChecks';
import { deniedName, deniedPath } from '../../../src/core/ingest/scan/denyList';
import { countDecision, emptyTally, moveToSkipped } from '../../../src/core/ingest/scan/tally';
import type { ScanDecision } from '../../../src/core/ingest/types';

const bytes = (...parts: (string | number[])[]) => new Uint8Array(Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part)))));

/** A minimal Windows executable head: "MZ", and at 0x3C the offset of "PE\0\0". */
function portableExecutable(): Uint8Array {
  const head = new Uint8Array(0x48).fill(0x41);
  head.set([0x4d, 0x5a]);
  new DataView(head.buffer).setUint32(0x3c, 0x40, true);
  head.set([0x50, 0x45, 0, 0], 0x40);
  return head;
}

describe('checkFileName', () => {
  it('knows lock files of every common package manager', () => {
    const locks = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'Cargo.lock', 'poetry.lock', 'Pipfile.lock', 'composer.lock', 'go.sum', 'Gemfile.lock', 'uv.lock', 'bun.lockb', 'flake.lock', 'npm-shrinkwrap.json'];
    for (const name of locks) expect(checkFileName(name), name).toBe('lock file');
  });

  it('knows minified and generated names, and leaves ordinary names alone', () => {
    expect(checkFileName('jquery.min.js')).toBe('minified');
    expect(checkFileName('style-min.css')).toBe('minified');
    expect(checkFileName('app.js.map')).toBe('generated');
    expect(checkFileName('api_pb2.py')).toBe('generated');
    expect(checkFileName('service.pb.go')).toBe('generated');
    for (const name of ['index.ts', 'package.json', 'README.md', 'roadmap.md', 'admin.js', 'Makefile']) expect(checkFileName(name), name).toBeUndefined();
  });
});

describe('deny list', () => {
  it('denies secrets and version-control folders, case-insensitively', () => {
    for (const name of ['.env', '.ENV', '.env.local', 'server.pem', 'tls.key', 'id_rsa', 'id_rsa.pub', 'id_ed25519', 'a.p12', 'a.pfx', 'credentials', 'credentials.json', 'secrets.yaml', 'release.keystore', '.npmrc', '.pypirc', '.netrc', 'terraform.tfstate', '.ssh']) {
      expect(deniedName(name), name).toBe('secret');
    }
    for (const name of ['.git', '.hg', '.svn']) expect(deniedName(name), name).toBe('vcs folder');
    for (const name of ['environment.ts', 'keys.ts', 'secret_santa.py', 'credentials_test.go', 'README.md', '.gitignore', '.github']) expect(deniedName(name), name).toBeUndefined();
  });

  it('denies a path when any segment is denied', () => {
    expect(deniedPath('config/.env.local')).toBe('secret');
    expect(deniedPath('sub/.git/config')).toBe('vcs folder');
    expect(deniedPath('docs/guide.md')).toBeUndefined();
  });
});

describe('looksBinary', () => {
  it('knows magic numbers even without NUL bytes', () => {
    const signatures = {
      png: bytes([0x89], 'PNG\r\n\x1a\n', 'IHDR'),
      jpeg: bytes([0xff, 0xd8, 0xff, 0xe0], 'JFIF'),
      gif: bytes('GIF89a some pixels'),
      pdf: bytes('%PDF-1.7\n1 0 obj << /Type /Catalog >>\nendobj\n'),
      zip: bytes('PK\x03\x04 entries'),
      gzip: bytes([0x1f, 0x8b, 0x08], 'data'),
      elf: bytes('\x7fELF\x02\x01\x01 program'),
      machO: bytes([0xcf, 0xfa, 0xed, 0xfe], 'program'),
      wasm: bytes([0x00, 0x61, 0x73, 0x6d, 0x01]),
      sqlite: bytes('SQLite format 3\0'),
      pe: portableExecutable(),
    };
    for (const [name, head] of Object.entries(signatures)) expect(looksBinary(head), name).toBe(true);
  });

  it('finds NUL bytes, but not in UTF-16 text', () => {
    expect(looksBinary(bytes('hello\0world'))).toBe(true);
    expect(looksBinary(new Uint8Array([0xff, 0xfe, ...Buffer.from('hi', 'utf16le')]))).toBe(false);
  });

  it('does not take text that starts like a signature for binary', () => {
    expect(looksBinary(bytes('MZ is a postcode in this dataset, and the text goes on and on for a while longer.'))).toBe(false);
    expect(looksBinary(bytes('PK is the primary key'))).toBe(false);
    expect(looksBinary(bytes('RIFF notes: the container format, described'))).toBe(false);
    expect(looksBinary(bytes('OTTO was here'))).toBe(false);
  });
});

describe('looksMinified', () => {
  const code = Array.from({ length: 40 }, (_, i) => `export const value${i} = compute(${i}, 'label');`).join('\n');

  it('passes ordinary code, and code with one long line', () => {
    expect(looksMinified(code, 'code:typescript')).toBe(false);
    expect(looksMinified(`${code}\nexport { ${Array.from({ length: 120 }, (_, i) => `name${i}`).join(', ')} };\n${code}`, 'code:typescript')).toBe(false);
  });

  it('catches a bundle on one line, and a few very long lines', () => {
    expect(looksMinified('var a=1,b=function(c){return c+1};'.repeat(100), 'code:javascript')).toBe(true);
    expect(looksMinified(Array.from({ length: 3 }, () => 'x = call(a, b) + other(c, d); '.repeat(15)).join('\n'), 'code:javascript')).toBe(true);
  });

  it('spares prose written one paragraph per line', () => {
    const paragraph = 'The scanner reads the first bytes of each file and decides whether it is worth indexing. '.repeat(40);
    expect(looksMinified(`# Title\n\n${paragraph}\n`, 'markdown')).toBe(false);
  });

  it('catches text that is nearly all punctuation', () => {
    expect(looksMinified('{[(<>)]},;:'.repeat(100), 'text')).toBe(true);
  });
});

describe('generated markers', () => {
  it('finds conventional markers near the top only', () => {
    expect(hasGeneratedMarker('// Code generated by protoc-gen-go. DO NOT EDIT.\npackage api\n')).toBe(true);
    expect(hasGeneratedMarker('/**\n * @generated\n */\nexport {};\n')).toBe(true);
    expect(hasGeneratedMarker('# This file is automatically generated by tool; do not edit.\n')).toBe(true);
    expect(hasGeneratedMarker('// <auto-generated />\nclass A {}\n')).toBe(true);
    expect(hasGeneratedMarker(`${'line\n'.repeat(30)}// DO NOT EDIT\n`)).toBe(false);
    expect(hasGeneratedMarker('Please do not edit the config by hand; use the CLI.\n')).toBe(false);
  });
});

describe('inspectContent', () => {
  it('returns the text and its kind for a good file', () => {
    expect(inspectContent(bytes('# Hello\n'), { fileName: 'README.md', complete: true })).toEqual({ ok: true, text: '# Hello\n', kind: 'markdown' });
    expect(inspectContent(bytes('x = 1\n'), { fileName: 'main.py', complete: true })).toMatchObject({ ok: true, kind: 'code:python' });
  });

  it('calls whitespace-only files empty, but only when it has seen the whole file', () => {
    expect(inspectContent(bytes('\n  \n'), { fileName: 'a.txt', complete: true })).toEqual({ ok: false, reason: 'empty' });
    expect(inspectContent(bytes('\n  \n'), { fileName: 'a.txt', complete: false })).toMatchObject({ ok: true });
  });
});

describe('ScanTally', () => {
  it('counts indexed files and skipped files and folders by reason', () => {
    const tally = emptyTally();
    const indexed: ScanDecision = { root: '/r', path: 'a.md', kind: 'file', decision: 'index', reason: 'markdown', size: 10 };
    countDecision(tally, indexed);
    countDecision(tally, { root: '/r', path: 'b.png', kind: 'file', decision: 'skip', reason: 'binary' });
    countDecision(tally, { root: '/r', path: 'node_modules', kind: 'directory', decision: 'skip', reason: 'gitignore' });
    moveToSkipped(tally, indexed, { ...indexed, decision: 'skip', reason: 'vanished' });
    expect(tally).toEqual({ indexedFiles: 0, indexedBytes: 0, skippedFiles: { binary: 1, vanished: 1 }, skippedFolders: { gitignore: 1 } });
  });
});
