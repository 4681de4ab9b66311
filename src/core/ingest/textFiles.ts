import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpecializeError, throwIfAborted } from '../errors';
import type { PassageInput } from '../store/store';
import { sha256Hex } from '../util/hash';

/**
 * A first, deliberately simple ingestion: every readable text file under the given roots becomes
 * passages of whole paragraphs with exact line ranges. (Ignore files, code-aware chunking and
 * watching come with the ingestion work; this covers docs and plain text well.)
 */
export interface TextScanSummary {
  files: number;
  passages: number;
  skipped: Record<string, number>;
}

/** Folders that are never worth indexing and can be huge. */
const SKIP_DIRS = new Set(['.git', 'node_modules', '.venv', 'venv', '__pycache__', 'dist', 'build', 'out', '.specialize', '.hg', '.svn']);
/** Files that commonly hold secrets: never read, never embedded, never sent anywhere. */
const SECRET_FILE = /^(\.env.*|id_rsa.*|id_ed25519.*|.*\.(pem|key|p12|pfx)|credentials(\..*)?|secrets?(\..*)?)$/i;
const MAX_FILE_BYTES = 1_000_000;
/** About 250 tokens of English: one passage per idea, well inside a 256-512 token model window. */
const TARGET_PASSAGE_CHARS = 1000;

export async function scanTextFolders(roots: readonly string[], options: { signal?: AbortSignal } = {}): Promise<{ passages: PassageInput[]; roots: string[]; summary: TextScanSummary }> {
  const passages: PassageInput[] = [];
  const summary: TextScanSummary = { files: 0, passages: 0, skipped: {} };
  const skip = (reason: string) => (summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1);
  const resolvedRoots = roots.map((root) => path.resolve(root));
  for (const root of resolvedRoots) {
    if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
      throw new SpecializeError(`Folder ${root} does not exist.`, 'Pass existing folders to index.', 'not-found');
    }
  }
  for (const root of resolvedRoots) {
    // Roots may share a folder name (two "docs" folders); ids stay unique by keying on the full path.
    const rootKey = sha256Hex(root).slice(0, 8);
    for await (const file of walk(root, skip)) {
      throwIfAborted(options.signal, 'indexing');
      const relative = path.relative(root, file).split(path.sep).join('/');
      if (SECRET_FILE.test(path.basename(file))) {
        skip('secret');
        continue;
      }
      const stat = await fs.promises.stat(file);
      if (stat.size > MAX_FILE_BYTES) {
        skip('too large');
        continue;
      }
      const bytes = await fs.promises.readFile(file);
      if (bytes.includes(0)) {
        skip('binary');
        continue;
      }
      const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes).replace(/\r\n?/g, '\n');
      const chunks = paragraphChunks(text);
      if (chunks.length === 0) {
        skip('empty');
        continue;
      }
      summary.files += 1;
      for (const chunk of chunks) {
        passages.push({ id: `${rootKey}:${relative}#L${chunk.startLine}-${chunk.endLine}`, root, path: relative, title: relative, text: chunk.text, startLine: chunk.startLine, endLine: chunk.endLine });
      }
    }
  }
  summary.passages = passages.length;
  return { passages, roots: resolvedRoots, summary };
}

export interface TextChunk {
  text: string;
  startLine: number;
  endLine: number;
}

/** Groups blank-line-separated paragraphs into passages of about TARGET_PASSAGE_CHARS. */
export function paragraphChunks(text: string, target = TARGET_PASSAGE_CHARS): TextChunk[] {
  const lines = text.split('\n');
  const paragraphs: TextChunk[] = [];
  let start = -1;
  for (let i = 0; i <= lines.length; i += 1) {
    const blank = i === lines.length || (lines[i] as string).trim() === '';
    if (!blank && start < 0) start = i;
    if (blank && start >= 0) {
      paragraphs.push(...splitLong(lines, start, i - 1, target));
      start = -1;
    }
  }
  const chunks: TextChunk[] = [];
  for (const paragraph of paragraphs) {
    const last = chunks[chunks.length - 1];
    if (last && last.text.length + paragraph.text.length + 2 <= target) {
      last.text = lines.slice(last.startLine - 1, paragraph.endLine).join('\n');
      last.endLine = paragraph.endLine;
    } else {
      chunks.push({ ...paragraph });
    }
  }
  return chunks;
}

/** A paragraph longer than twice the target is split at line boundaries. */
function splitLong(lines: readonly string[], first: number, last: number, target: number): TextChunk[] {
  const pieces: TextChunk[] = [];
  let start = first;
  let length = 0;
  for (let i = first; i <= last; i += 1) {
    length += (lines[i] as string).length + 1;
    if (length >= 2 * target || i === last) {
      pieces.push({ text: lines.slice(start, i + 1).join('\n'), startLine: start + 1, endLine: i + 1 });
      start = i + 1;
      length = 0;
    }
  }
  return pieces;
}

async function* walk(dir: string, skip: (reason: string) => void): AsyncGenerator<string> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    skip('unreadable');
    return;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (SKIP_DIRS.has(entry.name)) skip('ignored folder');
      else yield* walk(full, skip);
    } else if (entry.isFile()) {
      yield full;
    } else {
      // Symlinks and special files: following them could leave the root or loop.
      skip('not a regular file');
    }
  }
}
