import * as path from 'node:path';
import * as vscode from 'vscode';
import { isSpecializeError } from '../core/errors';
import { indexFolders, openSearch } from '../core/indexFolders';
import type { SearchResult } from '../core/search/searcher';
import { setStatus, storeDir, type Services } from './services';

type CommandHandler = (services: Services) => Promise<void>;

/** Every command, keyed by its id in package.json; registered in one loop by extension.ts. */
export const COMMANDS: Record<string, CommandHandler> = {
  'specialize.indexWorkspace': indexWorkspace,
  'specialize.search': search,
  'specialize.cancel': async (services) => services.cancelRunning?.(),
  'specialize.showLogs': async (services) => services.log.show(),
};

async function indexWorkspace(services: Services): Promise<void> {
  const folders = vscode.workspace.workspaceFolders?.map((folder) => folder.uri.fsPath) ?? [];
  const store = storeDir(services);
  if (folders.length === 0 || !store) {
    void vscode.window.showWarningMessage('Specialize: open a folder or workspace first; there is nothing to index.');
    return;
  }
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('Specialize indexes only trusted workspaces. Trust this workspace to index it.');
    return;
  }
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Specialize: indexing', cancellable: true }, async (progress, token) => {
    const controller = new AbortController();
    token.onCancellationRequested(() => controller.abort());
    services.cancelRunning = () => controller.abort();
    let lastPercent = 0;
    try {
      const report = await indexFolders({
        folders,
        storeDir: store,
        signal: controller.signal,
        onProgress: (event) => {
          const percent = event.total > 0 ? Math.floor((100 * event.done) / event.total) : 0;
          progress.report({ message: `${event.stage} ${event.done}/${event.total || '?'}`, increment: event.stage === 'embed passages' ? Math.max(0, percent - lastPercent) : 0 });
          if (event.stage === 'embed passages') lastPercent = percent;
          setStatus(services, `$(sync~spin) Specialize ${percent}%`, `${event.stage}: ${event.done}/${event.total}`);
        },
      });
      services.log.info(`Indexed ${report.scan.files} files, ${report.scan.passages} passages, ${report.vectors.embedded} embedded, in ${report.seconds.toFixed(1)} s`);
      setStatus(services, '$(search) Specialize', `${report.scan.passages} passages indexed`);
    } catch (error) {
      reportError(services, error);
    } finally {
      services.cancelRunning = undefined;
    }
  });
}

async function search(services: Services): Promise<void> {
  const store = storeDir(services);
  if (!store) {
    void vscode.window.showWarningMessage('Specialize: open a folder or workspace first.');
    return;
  }
  const query = await vscode.window.showInputBox({ prompt: 'Search your workspace by meaning', placeHolder: 'e.g. how are retries scheduled?' });
  if (!query) return;
  try {
    const opened = await openSearch(store, { needsModel: true });
    let results: SearchResult[];
    try {
      results = await opened.searcher.search(query, { mode: 'hybrid', k: 20 });
    } finally {
      await opened.close();
    }
    const picked = await vscode.window.showQuickPick(
      results.map((result) => ({
        label: `${result.path}${result.startLine !== null ? `:${result.startLine}` : ''}`,
        description: result.score.toFixed(3),
        detail: result.snippet.replace(/\s+/g, ' '),
        result,
      })),
      { placeHolder: `${results.length} results for “${query}”`, matchOnDetail: true },
    );
    if (!picked) return;
    const document = await vscode.workspace.openTextDocument(path.join(picked.result.root, picked.result.path));
    const line = Math.max(0, (picked.result.snippetLine ?? picked.result.startLine ?? 1) - 1);
    await vscode.window.showTextDocument(document, { selection: new vscode.Range(line, 0, line, 0) });
  } catch (error) {
    reportError(services, error);
  }
}

function reportError(services: Services, error: unknown): void {
  if (isSpecializeError(error)) {
    services.log.warn(`${error.message} ${error.fix}`);
    void vscode.window.showErrorMessage(`Specialize: ${error.message} ${error.fix}`);
    setStatus(services, '$(warning) Specialize', error.message);
    return;
  }
  services.log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  void vscode.window.showErrorMessage(`Specialize failed unexpectedly: ${error instanceof Error ? error.message : String(error)} (see Specialize logs).`);
  setStatus(services, '$(error) Specialize', 'Failed; see the logs');
}
