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
