import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SearchSession } from './searchSession';

/** What every command needs: the log channel, the status bar item, the index and the search view. */
export interface Services {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  status: vscode.StatusBarItem;
  search: SearchSession;
  /** Updates the search view when indexing starts, ends or fails (set once the view provider exists). */
  onIndexState?: (state: 'indexing' | 'ready' | 'error', detail: string) => void;
  /** Cancels the running long task (indexing), if any. */
  cancelRunning?: () => void;
}

/** The workspace's index lives in VS Code's per-workspace storage, never in the user's folders. */
export function storeDir(context: vscode.ExtensionContext): string | undefined {
  const base = context.storageUri?.fsPath;
  return base ? path.join(base, 'index') : undefined;
}

export function setStatus(services: Services, text: string, tooltip: string): void {
  services.status.text = text;
  const markdown = new vscode.MarkdownString(`${tooltip}\n\n[Search](command:specialize.focusSearch) · [Rebuild Index](command:specialize.indexWorkspace) · [Open Logs](command:specialize.showLogs)`, true);
  markdown.isTrusted = true;
  services.status.tooltip = markdown;
  services.status.show();
}

/**
 * The checks every task on the workspace's files makes first: folders open, storage available, the
 * workspace trusted, no other task running. Says what is missing and returns undefined, or the
 * folders and the store.
 */
export function readyForWorkspaceTask(services: Services, task: { verb: string; busy: string }): { folders: string[]; store: string } | undefined {
  const folders = vscode.workspace.workspaceFolders?.map((folder) => folder.uri.fsPath) ?? [];
  const store = storeDir(services.context);
  if (folders.length === 0 || !store) {
    void vscode.window.showWarningMessage(`Specialize: open a folder or workspace first; there is nothing to ${task.verb}.`);
    return undefined;
  }
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage(`Specialize works only on trusted workspaces. Trust this workspace to ${task.verb} it.`);
    return undefined;
  }
  if (services.cancelRunning) {
    void vscode.window.showInformationMessage(task.busy);
    return undefined;
  }
  return { folders, store };
}
