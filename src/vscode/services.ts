import * as path from 'node:path';
import * as vscode from 'vscode';

/** What every command needs: the log channel, the status bar item and where the index lives. */
export interface Services {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  status: vscode.StatusBarItem;
  /** Cancels the running long task (indexing), if any. */
  cancelRunning?: () => void;
}

export function storeDir(services: Services): string | undefined {
  const base = services.context.storageUri?.fsPath;
  return base ? path.join(base, 'index') : undefined;
}

export function setStatus(services: Services, text: string, tooltip: string): void {
  services.status.text = text;
  services.status.tooltip = new vscode.MarkdownString(`${tooltip}\n\n[Open Logs](command:specialize.showLogs)`, true);
  services.status.tooltip.isTrusted = true;
  services.status.show();
}
