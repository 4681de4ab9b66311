import { throwIfAborted } from '../errors';
import type { ProgressListener } from '../progress';
import { inFileScope, type PassageInput } from '../store/store';
import { sha256Hex } from '../util/hash';
import { chunkFile } from './chunk';
import { countDecision, emptyTally, moveToSkipped, type ScanTally } from './scan/tally';
import { readSourceFile, scanRoots } from './scanner';
import type { TokenBudget } from './tokenBudget';
import type { ScanDecision, ScanOptions } from './types';

export interface CollectOptions extends ScanOptions {
  budget: TokenBudget;
  onProgress?: ProgressListener;
  /** Only these files or folders (keys from `fileKey`; a watcher's changes); default: everything. */
  only?: ReadonlySet<string>;
}

export interface Collected {
  passages: PassageInput[];
  /** Absolute roots, as passages record them. */
  roots: string[];
  tally: ScanTally;
}

/**
 * Scans roots, reads and chunks every file the scan decides to index, and returns the passages,
 * with counts of everything skipped by reason. Passage ids are stable keys of root, path and line
 * range, so an unchanged passage keeps its id (and its embedding) across runs.
 */
export async function collectPassages(roots: readonly string[], options: CollectOptions): Promise<Collected> {
  const tally = emptyTally();
  const passages: PassageInput[] = [];
  const seenRoots: string[] = [];
  let files = 0;
  for await (const decision of scanRoots(roots, options)) {
    throwIfAborted(options.signal, 'indexing');
    if (!seenRoots.includes(decision.root)) seenRoots.push(decision.root);
    if (options.only && !inFileScope(options.only, decision.root, decision.path)) continue;
    countDecision(tally, decision);
    if (decision.decision !== 'index') continue;
    const source = await readSourceFile(decision, options);
    if ('decision' in source) {
      moveToSkipped(tally, decision, source);
      continue;
    }
    const chunks = options.budget.enforce(await chunkFile(source, { maxTokens: options.budget.chunkLimit, countTokens: options.budget.count }));
    const rootKey = sha256Hex(decision.root).slice(0, 8);
    const used = new Set<string>();
    for (const chunk of chunks) {
      let id = `${rootKey}:${decision.path}#L${chunk.startLine}-${chunk.endLine}`;
      // Two passages over the same lines (a class summary and its only member) get distinct ids.
      for (let n = 2; used.has(id); n += 1) id = `${rootKey}:${decision.path}#L${chunk.startLine}-${chunk.endLine}~${n}`;
      used.add(id);
      passages.push({ id, root: decision.root, path: decision.path, title: chunk.title || decision.path, text: chunk.text, startLine: chunk.startLine, endLine: chunk.endLine });
    }
    files += 1;
    if (files % PROGRESS_EVERY === 0) options.onProgress?.({ stage: 'read files', done: files, total: 0, unit: 'files' });
  }
  options.onProgress?.({ stage: 'read files', done: files, total: files, unit: 'files' });
  return { passages, roots: seenRoots, tally };
}

/** Lists what a scan decides, without reading or embedding anything (`--dry-run`). */
export async function listDecisions(roots: readonly string[], options: ScanOptions): Promise<ScanDecision[]> {
  const decisions: ScanDecision[] = [];
  for await (const decision of scanRoots(roots, options)) decisions.push(decision);
  return decisions;
}

/** Files between progress events: frequent enough to move, rare enough to cost nothing. */
const PROGRESS_EVERY = 200;
