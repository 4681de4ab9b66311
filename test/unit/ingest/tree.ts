import * as fs from 'node:fs';
import * as path from 'node:path';
import { scanRoots } from '../../../src/core/ingest/scanner';
import type { ScanDecision, ScanOptions } from '../../../src/core/ingest/types';
import { tempDir } from '../../helpers/env';

/** A fixture entry: text, raw bytes, or a symlink to a path (relative to the link's folder, or absolute). */
export type TreeEntry = string | Uint8Array | { symlink: string };

/** Writes a fixture tree; a key ending in '/' makes an empty folder. */
export function writeTree(root: string, entries: Record<string, TreeEntry>): string {
  for (const [relative, entry] of Object.entries(entries)) {
    const target = path.join(root, relative);
    if (relative.endsWith('/')) {
      fs.mkdirSync(target, { recursive: true });
      continue;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (typeof entry === 'object' && 'symlink' in entry) fs.symlinkSync(entry.symlink, target);
    else fs.writeFileSync(target, entry);
  }
  return root;
}

let base: string | undefined;

/** A fresh folder with these entries (all under one temporary folder, removed after the test file). */
export function fixture(entries: Record<string, TreeEntry>): string {
  base ??= tempDir('specialize-scan-');
  return writeTree(fs.mkdtempSync(path.join(base, 'tree-')), entries);
}

/** "path decision reason" lines, in scan order; folders end in '/'. */
export async function scanLines(roots: string | readonly string[], options?: ScanOptions): Promise<string[]> {
  return (await scanAll(roots, options)).map(line);
}

export async function scanAll(roots: string | readonly string[], options?: ScanOptions): Promise<ScanDecision[]> {
  const decisions: ScanDecision[] = [];
  // These tests pin down git's semantics; the built-in default ignores have their own test.
  for await (const decision of scanRoots(typeof roots === 'string' ? [roots] : roots, { defaultIgnores: false, ...options })) decisions.push(decision);
  return decisions;
}

export function line(decision: ScanDecision): string {
  return `${decision.path}${decision.kind === 'directory' ? '/' : ''} ${decision.decision} ${decision.reason}`;
}
