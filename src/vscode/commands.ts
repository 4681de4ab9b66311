import * as vscode from 'vscode';
import { isSpecializeError } from '../core/errors';
import type { SearchResult } from '../core/search/searcher';
import { generateQueries, setLlmApiKey } from './generateQueries';
import { tuneRetriever } from './tuneRetriever';
import { openResult } from './searchView';
import { readyForWorkspaceTask, setStatus, type Services } from './services';

type CommandHandler = (services: Services) => Promise<void>;

/** Every command, keyed by its id in package.json; registered in one loop by extension.ts. */
export const COMMANDS: Record<string, CommandHandler> = {
  'specialize.indexWorkspace': indexWorkspace,
  'specialize.search': search,
  'specialize.focusSearch': async () => {
    await vscode.commands.executeCommand('specialize.searchView.focus');
  },
  'specialize.cancel': async (services) => services.cancelRunning?.(),
  'specialize.showLogs': async (services) => services.log.show(),
  'specialize.generateQueries': generateQueries,
  'specialize.setLlmApiKey': setLlmApiKey,
  'specialize.tuneRetriever': (services) => tuneRetriever(services),
};

async function indexWorkspace(services: Services): Promise<void> {
  if (!readyForWorkspaceTask(services, { verb: 'index', busy: 'Specialize is already busy with this workspace; cancel the task or wait for it.' })) return;
  services.onIndexState?.('indexing', 'Indexing…');
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Specialize: indexing', cancellable: true }, async (progress, token) => {
    const controller = new AbortController();
    token.onCancellationRequested(() => controller.abort());
    services.cancelRunning = () => controller.abort();
    let reported = 0;
    try {
      const index = await services.search.get();
      const report = await index.indexAll({
        signal: controller.signal,
        onProgress: (event) => {
          const percent = event.total > 0 ? Math.floor((100 * event.done) / event.total) : 0;
          // The notification's bar follows the embedding stage, which is nearly all of the time.
          const increment = event.stage === 'embed passages' ? Math.max(0, percent - reported) : 0;
          if (event.stage === 'embed passages') reported = Math.max(reported, percent);
          progress.report({ message: `${event.stage} ${event.done}/${event.total || '?'}`, increment });
          setStatus(services, `$(sync~spin) Specialize ${event.stage === 'embed passages' ? `${percent}%` : ''}`.trim(), `${event.stage}: ${event.done}/${event.total}`);
        },
      });
      const summary = `Indexed ${report.scan.indexedFiles} files, ${report.passageCount} passages (${report.vectors.embedded} embedded) in ${report.seconds.toFixed(1)} s`;
      services.log.info(summary);
      setStatus(services, '$(search) Specialize', summary);
      services.onIndexState?.('ready', summary);
    } catch (error) {
      reportError(services, error);
      services.onIndexState?.('error', isSpecializeError(error) ? `${error.message} ${error.fix}` : 'Indexing failed; see the Specialize logs.');
    } finally {
      services.cancelRunning = undefined;
    }
  });
}

async function search(services: Services): Promise<void> {
  if (!services.search.hasIndex()) {
    const choice = await vscode.window.showInformationMessage('Specialize: this workspace has no index yet.', 'Index Workspace');
    if (choice) await vscode.commands.executeCommand('specialize.indexWorkspace');
    return;
  }
  const query = await vscode.window.showInputBox({ prompt: 'Search your workspace by meaning', placeHolder: 'e.g. how are retries scheduled?' });
  if (!query) return;
  try {
    const index = await services.search.get();
    const results: SearchResult[] = await index.searcher().search(query, { mode: 'hybrid', k: 20 });
    const picked = await vscode.window.showQuickPick(
      results.map((result) => ({
        label: `${result.path}${result.startLine !== null ? `:${result.startLine}` : ''}`,
        description: result.score.toFixed(3),
        detail: result.snippet.replace(/\s+/g, ' '),
        result,
      })),
      { placeHolder: `${results.length} results for “${query}”`, matchOnDetail: true },
    );
    if (picked) await openResult(picked.result.root, picked.result.path, picked.result.snippetLine ?? picked.result.startLine);
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
