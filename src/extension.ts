import * as vscode from 'vscode';
import { COMMANDS } from './vscode/commands';
import { SearchSession } from './vscode/searchSession';
import { REINDEX_SETTINGS, scanSettingsFromConfiguration } from './vscode/settings';
import { SearchViewProvider } from './vscode/searchView';
import { setStatus, storeDir, type Services } from './vscode/services';
import { watchWorkspace } from './vscode/workspaceWatcher';

let services: Services | undefined;

/**
 * Thin activation: build the services, register the command table and the search view, and turn
 * any activation error into a visible message instead of a silently dead extension.
 */
export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Specialize', { log: true });
  context.subscriptions.push(log);
  try {
    const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
    status.command = 'specialize.focusSearch';
    context.subscriptions.push(status);
    const folders = () => vscode.workspace.workspaceFolders?.map((folder) => folder.uri.fsPath) ?? [];
    services = { context, log, status, search: new SearchSession(() => storeDir(context), folders, scanSettingsFromConfiguration) };
    const view = new SearchViewProvider(services);
    services.onIndexState = (state, detail) => view.showIndexState(state, detail);
    context.subscriptions.push(vscode.window.registerWebviewViewProvider(SearchViewProvider.viewType, view));
    context.subscriptions.push(watchWorkspace(services));
    // Adding or removing a root folder changes what the index covers: reopen it on next use.
    const session = services.search;
    context.subscriptions.push(vscode.workspace.onDidChangeWorkspaceFolders(() => void session.invalidate()));
    context.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration(async (event) => {
        if (!REINDEX_SETTINGS.some((setting) => event.affectsConfiguration(setting))) return;
        await session.invalidate();
        if (!session.hasIndex()) return;
        const choice = await vscode.window.showInformationMessage('Specialize: the indexing settings changed. Update the index now?', 'Update Index');
        if (choice) await vscode.commands.executeCommand('specialize.indexWorkspace');
      }),
    );
    for (const [id, handler] of Object.entries(COMMANDS)) {
      const bound = services;
      context.subscriptions.push(vscode.commands.registerCommand(id, () => handler(bound)));
    }
    setStatus(services, '$(search) Specialize', services.search.hasIndex() ? 'Semantic search over this workspace' : 'No index yet: run Specialize: Index Workspace');
    log.info('Specialize activated');
  } catch (error) {
    log.error(`Activation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    void vscode.window.showErrorMessage(`Specialize could not start: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export async function deactivate(): Promise<void> {
  // Worker threads and the open store are not subscriptions; close them so the host exits cleanly.
  await services?.search.invalidate();
}
