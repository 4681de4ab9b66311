import type { ScanDecision } from '../types';

/**
 * Counts of a scan, for progress lines and the `--dry-run` summary: indexed files, and skipped
 * files and folders by reason. Folders are counted apart because one skipped folder (node_modules)
 * stands for files nobody listed.
 */
export interface ScanTally {
  indexedFiles: number;
  indexedBytes: number;
  skippedFiles: Record<string, number>;
  skippedFolders: Record<string, number>;
}

export function emptyTally(): ScanTally {
  return { indexedFiles: 0, indexedBytes: 0, skippedFiles: {}, skippedFolders: {} };
}

/** Adds one decision. A file that `readSourceFile` turns into a skip is counted again with `moveToSkipped`. */
export function countDecision(tally: ScanTally, decision: ScanDecision): void {
  if (decision.decision === 'index') {
    tally.indexedFiles += 1;
    tally.indexedBytes += decision.size ?? 0;
    return;
  }
  const counts = decision.kind === 'directory' ? tally.skippedFolders : tally.skippedFiles;
  counts[decision.reason] = (counts[decision.reason] ?? 0) + 1;
}

/** A file the scan indexed turned out to be a skip when read (it changed, or is minified past the sniff). */
export function moveToSkipped(tally: ScanTally, indexed: ScanDecision, skipped: ScanDecision): void {
  tally.indexedFiles -= 1;
  tally.indexedBytes -= indexed.size ?? 0;
  countDecision(tally, skipped);
}
