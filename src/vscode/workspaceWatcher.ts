import * as vscode from 'vscode';
import { ChangeBatcher } from '../core/watch/changeBatcher';
import { DEFAULT_DEBOUNCE_MS } from '../core/watch/watchFolders';
import type { Services } from './services';

/**
 * Feeds VS Code's file events (saves, creations, deletions, also from git and other tools) into
 * the open index in batches, so a saved file is searchable again within about a second. Does
 * nothing until the workspace has been indexed once, and nothing in untrusted workspaces.
 */
export function watchWorkspace(services: Services): vscode.Disposable {
  const batcher = new ChangeBatcher(async (paths) => {
    if (!vscode.workspace.isTrusted || !services.search.hasIndex() || services.cancelRunning) return;
    const index = await services.search.current();
    if (!index) return;
    try {
      const report = await index.update(paths);
      if (report.vectors.embedded > 0 || report.passages.removed > 0) {
        services.log.info(`Updated ${paths.length} changed path(s): ${report.vectors.embedded} passages embedded, ${report.passages.removed} removed (${(report.seconds * 1000).toFixed(0)} ms)`);
      }
    } catch (error) {
      services.log.warn(`Could not update the index for ${paths.length} changed path(s): ${error instanceof Error ? error.message : String(error)}`);
    }
  }, DEFAULT_DEBOUNCE_MS);
  const watcher = vscode.workspace.createFileSystemWatcher('**/*');
  const add = (uri: vscode.Uri) => {
    if (uri.scheme === 'file') batcher.add(uri.fsPath);
  };
  return vscode.Disposable.from(watcher, watcher.onDidCreate(add), watcher.onDidChange(add), watcher.onDidDelete(add), { dispose: () => batcher.close() });
}
