import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isSpecializeError, SpecializeError } from '../core/errors';
import { judgedQueries, normaliseQuery, readJudgements, recordJudgement } from '../core/judgements/judgementLog';
import type { IndexState, ToExtension, ToWebview } from '../protocol/webview';
import { storeDir, type Services } from './services';

/**
 * The "Search" view in the Specialize sidebar: a webview that sends queries and shows results with
 * their paths, lines, snippets and scores. Scripts load from dist/ through asWebviewUri under a
 * strict CSP with a per-load nonce.
 */
export class SearchViewProvider implements vscode.WebviewViewProvider {
  static readonly viewType = 'specialize.searchView';
  private view: vscode.WebviewView | undefined;

  constructor(private readonly services: Services) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const extensionUri = this.services.context.extensionUri;
    view.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
    };
    view.webview.html = this.html(view.webview);
    view.webview.onDidReceiveMessage((message: ToExtension) => void this.handle(message));
    view.onDidDispose(() => (this.view = undefined));
  }

  /** Tells the view whether an index exists, is being built, or failed. */
  showIndexState(state: IndexState, detail: string): void {
    this.post({ type: 'index/status', state, detail });
  }

  private async handle(message: ToExtension): Promise<void> {
    switch (message.type) {
      case 'view/ready':
        this.showIndexState(this.services.search.hasIndex() ? 'ready' : 'missing', this.services.search.hasIndex() ? '' : 'This workspace has no index yet.');
        break;
      case 'search/run':
        await this.search(message.query, message.mode, message.k);
        break;
      case 'result/open':
        await openResult(message.root, message.path, message.line);
        break;
      case 'result/judge':
        await this.judge(message.query, message.id, message.path, message.relevant);
        break;
      case 'index/build':
        await vscode.commands.executeCommand('specialize.indexWorkspace');
        break;
    }
  }

  private async search(query: string, mode: 'dense' | 'bm25' | 'hybrid', k: number): Promise<void> {
    const started = performance.now();
    try {
      const index = await this.services.search.get();
      const results = await index.searcher().search(query, { mode, k });
      this.post({ type: 'search/results', query, mode, results, elapsedMs: performance.now() - started, marks: this.marksFor(query) });
    } catch (error) {
      if (isSpecializeError(error)) {
        this.post({ type: 'search/error', query, message: error.message, fix: error.fix });
      } else {
        this.services.log.error(`Search failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        this.post({ type: 'search/error', query, message: `Search failed: ${error instanceof Error ? error.message : String(error)}`, fix: 'See the Specialize logs.' });
      }
    }
  }

  /** The user's earlier marks for this query, so a repeated search shows them. */
  private marksFor(query: string): Record<string, boolean> {
    const dir = storeDir(this.services.context);
    if (!dir) return {};
    const wanted = normaliseQuery(query);
    try {
      return Object.fromEntries(readJudgements(dir).marks.filter((mark) => mark.query === wanted).map((mark) => [mark.passageId, mark.relevant]));
    } catch (error) {
      // The marks are a courtesy on top of the results; an unreadable file must not cost the search.
      this.services.log.warn(`Could not read the judgements beside the index: ${error instanceof Error ? error.message : String(error)}`);
      return {};
    }
  }

  /** Records a relevance mark beside the index; the next tuning run evaluates on it. */
  private async judge(query: string, id: string, resultPath: string, relevant: boolean | null): Promise<void> {
    const dir = storeDir(this.services.context);
    try {
      if (!dir) throw new SpecializeError('This window has no workspace storage to keep judgements in.', 'Open a folder or workspace.', 'invalid-input');
      await recordJudgement(dir, { query, passageId: id, relevant, path: resultPath });
      this.post({ type: 'result/judged', query, id, relevant, judgedQueries: judgedQueries(dir).queries.length });
    } catch (error) {
      const known = isSpecializeError(error);
      if (!known) this.services.log.error(`Recording a judgement failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      this.post({ type: 'result/judge-error', id, message: error instanceof Error ? error.message : String(error), ...(known ? { fix: error.fix } : {}) });
    }
  }

  private post(message: ToWebview): void {
    void this.view?.webview.postMessage(message);
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const asset = (...segments: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.services.context.extensionUri, ...segments)).toString();
    const csp = [`default-src 'none'`, `style-src ${webview.cspSource}`, `font-src ${webview.cspSource}`, `img-src ${webview.cspSource} data:`, `script-src 'nonce-${nonce}'`].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${asset('media', 'search.css')}">
  <title>Specialize Search</title>
</head>
<body>
  <div class="controls">
    <vscode-textfield id="query" placeholder="Search by meaning, e.g. how are retries scheduled?" aria-label="Query"></vscode-textfield>
    <vscode-single-select id="mode" aria-label="Retrieval mode">
      <vscode-option value="hybrid">hybrid</vscode-option>
      <vscode-option value="dense">dense</vscode-option>
      <vscode-option value="bm25">BM25</vscode-option>
    </vscode-single-select>
  </div>
  <div id="status" role="status"></div>
  <vscode-button id="index-button" hidden>Index workspace</vscode-button>
  <ul id="results" aria-label="Results"></ul>
  <script nonce="${nonce}" src="${asset('dist', 'webview.js')}"></script>
</body>
</html>`;
  }
}

export async function openResult(root: string, relativePath: string, line: number | null): Promise<void> {
  const document = await vscode.workspace.openTextDocument(path.join(root, relativePath));
  const at = Math.max(0, (line ?? 1) - 1);
  await vscode.window.showTextDocument(document, { selection: new vscode.Range(at, 0, at, 0), preview: true });
}
