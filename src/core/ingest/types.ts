/**
 * Shared shapes of workspace ingestion: the scanner decides which files to read (and says why it
 * skips the rest), chunkers turn one decoded file into passages with exact line ranges.
 */

/** Why a file or folder is not indexed. Stable strings: they appear in `--dry-run --json` output. */
export type SkipReason =
  | 'gitignore'
  | 'default ignore'
  | 'specializeignore'
  | 'excluded by settings'
  | 'not included by settings'
  | 'secret'
  | 'vcs folder'
  | 'binary'
  | 'too large'
  | 'minified'
  | 'generated'
  | 'lock file'
  | 'undecodable'
  | 'unreadable'
  | 'symlink outside roots'
  | 'symlink loop'
  | 'not a regular file'
  | 'vanished'
  | 'empty';

/** One entry of a scan: a file (or a whole skipped folder) and what happens to it. */
export interface ScanDecision {
  /** Absolute path of the root folder this entry belongs to. */
  root: string;
  /** Path relative to its root, with forward slashes. */
  path: string;
  kind: 'file' | 'directory';
  decision: 'index' | 'skip';
  /** Why it is skipped; for indexed files, what kind of content it is (e.g. "markdown", "code:python"). */
  reason: string;
  size?: number;
}

export interface ScanOptions {
  /** Globs (gitignore syntax, relative to each root); when given, only matching files are indexed. */
  include?: readonly string[];
  /** Globs (gitignore syntax, relative to each root) that are never indexed. */
  exclude?: readonly string[];
  /**
   * Skip dependency, build and cache folders (node_modules, dist, .venv, …; see DEFAULT_IGNORES)
   * even without a .gitignore. Default true; ignore files can still re-include them.
   */
  defaultIgnores?: boolean;
  /** Files larger than this are skipped as "too large". Default 1 MB. */
  maxFileBytes?: number;
  signal?: AbortSignal;
}

/** A decoded text file, ready to chunk. Newlines are normalised to "\n". */
export interface SourceFile {
  root: string;
  path: string;
  text: string;
}

/** A passage cut from one file. Lines are 1-based and inclusive. */
export interface Chunk {
  text: string;
  startLine: number;
  endLine: number;
  /** Heading path for documents ("Guide > Install > Linux"), symbol path for code ("Queue.claim"). */
  title: string;
}

export interface ChunkOptions {
  /** Largest passage in model tokens (the active model's limit, special tokens excluded). */
  maxTokens: number;
  /** Counts the model's tokens in a text. */
  countTokens: (text: string) => number;
}
