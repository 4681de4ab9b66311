import * as vscode from 'vscode';
import { COMMANDS } from './vscode/commands';
import { setStatus, type Services } from './vscode/services';

/**
 * Thin activation: build the services, register the command table, and turn any activation error
 * into a visible message instead of a silently dead extension.
 */
export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Specialize', { log: true });
  context.subscriptions.push(log);
  try {
    const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
    status.command = 'specialize.search';
    context.subscriptions.push(status);
    const services: Services = { context, log, status };
    for (const [id, handler] of Object.entries(COMMANDS)) {
      context.subscriptions.push(vscode.commands.registerCommand(id, () => handler(services)));
    }
    setStatus(services, '$(search) Specialize', 'Semantic search over this workspace');
  } catch (error) {
    log.error(`Activation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    void vscode.window.showErrorMessage(`Specialize could not start: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function deactivate(): void {
  // Subscriptions dispose everything activate() created.
}
