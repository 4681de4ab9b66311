import * as vscode from 'vscode';
import type { ScanOptions } from '../core/ingest/types';

/** The `specialize.*` settings that decide what is indexed, as scan options. */
export function scanSettingsFromConfiguration(): ScanOptions {
  const config = vscode.workspace.getConfiguration('specialize');
  return {
    include: config.get<string[]>('include', []),
    exclude: config.get<string[]>('exclude', []),
    maxFileBytes: config.get<number>('maxFileSize', 1_000_000),
    defaultIgnores: config.get<boolean>('defaultIgnores', true),
  };
}

/** Settings whose change alters which files are indexed, so the index must be rebuilt. */
export const REINDEX_SETTINGS = ['specialize.include', 'specialize.exclude', 'specialize.maxFileSize', 'specialize.defaultIgnores'];
