import type { Dirent, Stats } from 'node:fs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { throwIfAborted } from '../errors';
import { checkFileName, inspectContent, SNIFF_BYTES } from './fileChecks';
import { compileSettings, defaultIgnoreLayer, DirectoryRules, type RuleSource } from './ignoreRules';
import { deniedName, deniedPath } from './scan/denyList';
import { readWholeFile, reasonForError, sniffFile } from './scan/fileIo';
import { gitLayersAboveRoot } from './scan/gitRepo';
import { containingRoot, relativeToRoot, resolveRoots, type ScanRoot } from './scan/roots';
import type { ScanDecision, ScanOptions, SkipReason, SourceFile } from './types';

/**
 * The workspace scanner: walks each root and decides, for every file (and every folder it does
 * not enter), whether it is indexed and why not. Deciding reads at most the first 8 KB of a file;
 * `readSourceFile` reads and decodes a file the scan decided to index. A `--dry-run` lists the
 * decisions and never needs the second step.
 *
 * Order of the checks, first match wins:
 *   1. the deny list (secrets, version-control folders): nothing overrides it;
 *   2. symlinks: resolved, and skipped when they leave the roots or come back to a folder already seen;
 *   3. `exclude` settings, then ignore files (`.specializeignore` over `.gitignore`), then `include`;
 *   4. the file itself: not a regular file, lock file and build-output names, size, then content
 *      (binary, undecodable, empty, generated, minified).
 *
 * Output is deterministic: roots in the given order, and within a root, sorted by path.
 */

export const DEFAULT_MAX_FILE_BYTES = 1_000_000;

const GITIGNORE = '.gitignore';
const SPECIALIZEIGNORE = '.specializeignore';

interface WalkState {
  roots: readonly ScanRoot[];
  maxFileBytes: number;
  signal: AbortSignal | undefined;
  /**
   * Folders entered so far, by device and inode, and whether through a symlink. A folder is
   * entered at most once through symlinks and once at its real place, so no walk can loop.
   */
  enteredFolders: Map<string, 'real' | 'link'>;
}

interface Folder {
  root: ScanRoot;
  /** Path relative to the root ('' for the root itself). */
  path: string;
  /** Where it really is on disk (a symlinked folder's target). */
  real: string;
  rules: DirectoryRules;
  /** Reached through a symlinked folder (here or above). */
  viaLink: boolean;
}

/** One listed name, with its symlink (if it is one) resolved. */
interface Entry {
  name: string;
  path: string;
  /** Real path of the entry, or of its target for a symlink. */
  real: string;
  type: 'file' | 'folder' | 'special';
  /** Folders sort as "name/", which makes a depth-first walk come out sorted by full path. */
  sortKey: string;
  symlink?: { targetRoot: ScanRoot | undefined } | { error: SkipReason };
  /** Stat of a symlink's target (folders need it for loop checks). */
  targetStat?: Stats;
}

export async function* scanRoots(roots: readonly string[], options: ScanOptions = {}): AsyncGenerator<ScanDecision> {
  const resolved = await resolveRoots(roots);
  const settings = compileSettings(options.include, options.exclude);
  const state: WalkState = {
    roots: resolved,
    maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    signal: options.signal,
    enteredFolders: new Map(),
  };
  for (const root of resolved) {
    throwIfAborted(state.signal, 'scan');
    const defaults = options.defaultIgnores === false ? [] : [defaultIgnoreLayer()];
    const rules = DirectoryRules.forRoot(settings, [...defaults, ...(await gitLayersAboveRoot(root.real))]);
    const stat = await fs.promises.stat(root.real).catch(() => undefined);
    if (stat) state.enteredFolders.set(folderKey(stat, root.real), 'real');
    yield* walkFolder(state, { root, path: '', real: root.real, rules, viaLink: false });
  }
}

/**
 * Reads and decodes a file the scan decided to index. The file may have changed since: it is
 * checked again on all of its content, and a skip decision with the reason comes back instead
 * of the text when it no longer qualifies (or has vanished).
 */
export async function readSourceFile(decision: ScanDecision, options: ScanOptions = {}): Promise<SourceFile | ScanDecision> {
  if (decision.kind !== 'file' || decision.decision !== 'index') return decision;
  // The deny list holds even for a decision that did not come from the scan.
  const denied = deniedPath(decision.path);
  if (denied) return { ...decision, decision: 'skip', reason: denied };
  const skip = (reason: SkipReason, size?: number): ScanDecision => ({ root: decision.root, path: decision.path, kind: 'file', decision: 'skip', reason, ...(size !== undefined ? { size } : {}) });
  const file = path.join(decision.root, ...decision.path.split('/'));
  const read = await readWholeFile(file, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, decision.size);
  if (!read.ok) return skip(read.reason, read.size);
  const verdict = inspectContent(read.bytes, { fileName: path.basename(file), complete: true });
  if (!verdict.ok) return skip(verdict.reason, read.size);
  return { root: decision.root, path: decision.path, text: verdict.text };
}

async function* walkFolder(state: WalkState, folder: Folder): AsyncGenerator<ScanDecision> {
  throwIfAborted(state.signal, 'scan');
  let dirents: Dirent[];
  try {
    dirents = await fs.promises.readdir(folder.real, { withFileTypes: true });
  } catch (error) {
    yield folderDecision(folder.root, folder.path || '.', reasonForError(error));
    return;
  }
  // Git reads no ignore file inside an excluded folder; neither do we when a negation brings us in.
  const rules = folder.rules.inheritedExclusion
    ? folder.rules
    : folder.rules.withFiles(folder.path, {
        ...(await readIgnoreFile(folder.real, dirents, GITIGNORE, 'gitignore')),
        ...(await readIgnoreFile(folder.real, dirents, SPECIALIZEIGNORE, 'specializeignore')),
      });
  const entries = await Promise.all(dirents.map((dirent) => describeEntry(state, folder, dirent)));
  // By code unit, not locale: the order must not depend on the machine.
  entries.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
  for (const entry of entries) {
    throwIfAborted(state.signal, 'scan');
    if (entry.type === 'folder') yield* visitFolder(state, folder, rules, entry);
    else yield await decideFile(state, folder.root, rules, entry);
  }
}

async function* visitFolder(state: WalkState, parent: Folder, rules: DirectoryRules, entry: Entry): AsyncGenerator<ScanDecision> {
  // A root inside another is scanned as its own root; its files belong there, not here too.
  if (!entry.symlink && state.roots.some((root) => root.real === entry.real)) return;
  const viaLink = parent.viaLink || entry.symlink !== undefined;
  const entered = await folderToEnter(state, rules, entry, viaLink);
  if (typeof entered === 'string') {
    yield folderDecision(parent.root, entry.path, entered);
    return;
  }
  yield* walkFolder(state, { root: parent.root, path: entry.path, real: entry.real, rules: entered, viaLink });
}

/** The rules to walk a folder with, or why it is skipped as a whole. */
async function folderToEnter(state: WalkState, rules: DirectoryRules, entry: Entry, viaLink: boolean): Promise<DirectoryRules | SkipReason> {
  const denied = checkDenied(entry);
  if (denied) return denied;
  if (rules.excludedBySettings(entry.path, true)) return 'excluded by settings';
  const verdict = rules.decide(entry.path, true);
  let exclusion: RuleSource | undefined;
  if (verdict.excluded) {
    // Only a `.specializeignore` negation naming a path inside can open an excluded folder.
    if (verdict.reason === 'excluded by settings' || !rules.reachesInto(entry.path)) return verdict.reason;
    exclusion = verdict.reason;
  }
  let stat = entry.targetStat;
  try {
    stat ??= await fs.promises.stat(entry.real);
  } catch (error) {
    return reasonForError(error);
  }
  // Through symlinks, a folder already reached in any way is a loop (or a duplicate). At its real
  // place a folder is entered even if a symlink led there first, so what is indexed under real
  // paths never depends on which symlinks exist.
  const key = folderKey(stat, entry.real);
  const earlier = state.enteredFolders.get(key);
  if (viaLink ? earlier !== undefined : earlier === 'real') return 'symlink loop';
  state.enteredFolders.set(key, viaLink ? 'link' : 'real');
  return rules.enter(entry.path, exclusion);
}

async function decideFile(state: WalkState, root: ScanRoot, rules: DirectoryRules, entry: Entry): Promise<ScanDecision> {
  const skip = (reason: SkipReason, size?: number): ScanDecision => ({ root: root.path, path: entry.path, kind: 'file', decision: 'skip', reason, ...(size !== undefined ? { size } : {}) });
  const denied = checkDenied(entry);
  if (denied) return skip(denied);
  if (rules.excludedBySettings(entry.path, false)) return skip('excluded by settings');
  const verdict = rules.decide(entry.path, false);
  if (verdict.excluded) return skip(verdict.reason);
  if (!rules.includedBySettings(entry.path)) return skip('not included by settings');
  if (entry.type === 'special') return skip('not a regular file');
  const byName = checkFileName(entry.name);
  if (byName) return skip(byName);
  const sniff = await sniffFile(entry.real, state.maxFileBytes, SNIFF_BYTES);
  // A name that does not survive decoding (invalid UTF-8 on disk) cannot be opened again by name.
  if (!sniff.ok) return skip(sniff.reason === 'vanished' && entry.name.includes('\uFFFD') ? 'unreadable' : sniff.reason, sniff.size);
  const content = inspectContent(sniff.head, { fileName: entry.name, complete: sniff.complete });
  if (!content.ok) return skip(content.reason, sniff.size);
  return { root: root.path, path: entry.path, kind: 'file', decision: 'index', reason: content.kind, size: sniff.size };
}

/** The deny list, and the symlink checks that come right after it (they need no rules). */
function checkDenied(entry: Entry): SkipReason | undefined {
  const byName = deniedName(entry.name);
  if (byName) return byName;
  if (!entry.symlink) return undefined;
  if ('error' in entry.symlink) return entry.symlink.error;
  const targetRoot = entry.symlink.targetRoot;
  if (!targetRoot) return 'symlink outside roots';
  // A harmless name may point at `.env` or into `.git`: the target's path is checked too.
  return deniedPath(relativeToRoot(entry.real, targetRoot));
}

/** Lists one entry: its type, and for a symlink where it leads (roots, loops and type). */
async function describeEntry(state: WalkState, folder: Folder, dirent: Dirent): Promise<Entry> {
  const name = dirent.name;
  const entryPath = folder.path === '' ? name : `${folder.path}/${name}`;
  const real = path.join(folder.real, name);
  const entry = (type: Entry['type'], more: Partial<Entry> = {}): Entry => ({ name, path: entryPath, real, type, sortKey: type === 'folder' ? `${name}/` : name, ...more });
  if (dirent.isDirectory()) return entry('folder');
  if (dirent.isFile()) return entry('file');
  if (!dirent.isSymbolicLink()) return entry('special');
  try {
    const target = await fs.promises.realpath(real);
    const targetStat = await fs.promises.stat(target);
    const type = targetStat.isDirectory() ? 'folder' : targetStat.isFile() ? 'file' : 'special';
    return entry(type, { real: target, targetStat, symlink: { targetRoot: containingRoot(target, state.roots) } });
  } catch (error) {
    // ELOOP: the link chain comes back to itself; ENOENT: it points at nothing (dangling).
    const reason = reasonForError(error);
    return entry('file', { symlink: { error: reason === 'vanished' ? 'unreadable' : reason } });
  }
}

async function readIgnoreFile(folderReal: string, dirents: readonly Dirent[], name: string, key: RuleSource): Promise<Partial<Record<RuleSource, string>>> {
  if (!dirents.some((dirent) => dirent.name === name && dirent.isFile())) return {};
  try {
    return { [key]: await fs.promises.readFile(path.join(folderReal, name), 'utf8') };
  } catch {
    return {}; // vanished or unreadable: the folder is scanned as if it had none
  }
}

function folderDecision(root: ScanRoot, folderPath: string, reason: SkipReason): ScanDecision {
  return { root: root.path, path: folderPath, kind: 'directory', decision: 'skip', reason };
}

/**
 * A folder's identity: device and inode, which also see through bind mounts. Some file systems
 * (FAT on Windows) report inode 0 for everything; the real path is the best we have there.
 */
function folderKey(stat: Stats, real: string): string {
  return stat.ino === 0 ? `path:${real}` : `${stat.dev}:${stat.ino}`;
}
