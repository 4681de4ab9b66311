/**
 * The search view: a query field, a mode picker and the results. Runs inside the webview; talks
 * to the extension only through the typed messages of src/protocol/webview.ts.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { IndexState, SearchResult, SearchMode, ToExtension, ToWebview } from '../src/protocol/webview';

interface VsCodeApi {
  postMessage(message: ToExtension): void;
  getState(): ViewState | undefined;
  setState(state: ViewState): void;
}

interface ViewState {
  query: string;
  mode: SearchMode;
  results: SearchResult[];
  status: string;
  /** The query the shown results were found for, and the user's marks on them (passage id → relevant). */
  resultsQuery?: string;
  marks?: Record<string, boolean>;
}

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const RESULTS_PER_QUERY = 20;

const queryField = element<HTMLInputElement>('query');
const modeSelect = element<HTMLSelectElement>('mode');
const status = element<HTMLElement>('status');
const list = element<HTMLUListElement>('results');
const indexButton = element<HTMLElement>('index-button');

let state: ViewState = vscode.getState() ?? { query: '', mode: 'hybrid', results: [], status: '' };
queryField.value = state.query;
modeSelect.value = state.mode;
render(state.results);
setStatus(state.status);

queryField.addEventListener('keydown', (event) => {
  if ((event as KeyboardEvent).key === 'Enter') runSearch();
});
modeSelect.addEventListener('change', () => {
  if (queryField.value.trim()) runSearch();
});
indexButton.addEventListener('click', () => vscode.postMessage({ type: 'index/build' }));
list.addEventListener('click', (event) => {
  const target = event.target as HTMLElement;
  const judgeButton = target.closest<HTMLButtonElement>('button.judge');
  if (judgeButton) judge(judgeButton);
  else openResult(target);
});
list.addEventListener('keydown', (event) => {
  // Enter on a mark button is that button's click, not an open.
  if (event.key === 'Enter' && !(event.target as HTMLElement).closest('button.judge')) openResult(event.target as HTMLElement);
});

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  switch (message.type) {
    case 'search/results':
      save({ results: message.results, resultsQuery: message.query, marks: message.marks, status: `${message.results.length} results · ${message.mode} · ${Math.round(message.elapsedMs)} ms` });
      render(message.results);
      setStatus(state.status);
      break;
    case 'search/error':
      render([]);
      save({ results: [], status: `${message.message}${message.fix ? ` ${message.fix}` : ''}` });
      setStatus(state.status, true);
      break;
    case 'result/judged':
      if (message.query === state.resultsQuery) {
        const others = Object.entries(state.marks ?? {}).filter(([id]) => id !== message.id);
        const marks = Object.fromEntries(message.relevant === null ? others : [...others, [message.id, message.relevant]]);
        const what = message.relevant === null ? 'Mark withdrawn' : `Marked ${message.relevant ? 'relevant' : 'not relevant'}`;
        save({ marks, status: `${what}; ${message.judgedQueries} judged ${message.judgedQueries === 1 ? 'query' : 'queries'} will count when you tune.` });
        render(state.results);
        setStatus(state.status);
      }
      break;
    case 'result/judge-error':
      setStatus(`${message.message}${message.fix ? ` ${message.fix}` : ''}`, true);
      break;
    case 'index/status':
      showIndexState(message.state, message.detail);
      break;
  }
});

vscode.postMessage({ type: 'view/ready' });

function runSearch(): void {
  const query = queryField.value.trim();
  if (!query) return;
  const mode = (modeSelect.value || 'hybrid') as SearchMode;
  save({ query, mode });
  setStatus('Searching…');
  vscode.postMessage({ type: 'search/run', query, mode, k: RESULTS_PER_QUERY });
}

function openResult(target: HTMLElement): void {
  const item = target.closest<HTMLLIElement>('li.result');
  if (!item) return;
  const result = state.results[Number(item.dataset.index)];
  if (result) vscode.postMessage({ type: 'result/open', root: result.root, path: result.path, line: result.snippetLine ?? result.startLine });
}

/** Marks a result relevant or not for the query it was found for; a click on the pressed mark withdraws it. */
function judge(button: HTMLButtonElement): void {
  const item = button.closest<HTMLLIElement>('li.result');
  const result = item ? state.results[Number(item.dataset.index)] : undefined;
  if (!result || !state.resultsQuery) return;
  const relevant = button.dataset.relevant === 'true';
  vscode.postMessage({ type: 'result/judge', query: state.resultsQuery, id: result.id, path: result.path, relevant: state.marks?.[result.id] === relevant ? null : relevant });
}

function judgeButton(result: SearchResult, relevant: boolean): HTMLButtonElement {
  const button = document.createElement('button');
  button.className = 'judge';
  button.dataset.relevant = String(relevant);
  button.textContent = relevant ? '✓' : '✗';
  button.title = `${relevant ? 'Relevant to this query (tuning evaluates on your marks)' : 'Not relevant to this query'}; click again to withdraw`;
  button.setAttribute('aria-label', `${relevant ? 'Relevant' : 'Not relevant'}: ${result.path}`);
  button.setAttribute('aria-pressed', String(state.marks?.[result.id] === relevant));
  return button;
}

function render(results: readonly SearchResult[]): void {
  list.replaceChildren(
    ...results.map((result, index) => {
      const item = document.createElement('li');
      item.className = 'result';
      item.tabIndex = 0;
      item.dataset.index = String(index);
      item.dataset.path = result.path;
      item.dataset.line = String(result.snippetLine ?? result.startLine ?? '');
      const head = document.createElement('div');
      head.className = 'result-head';
      const where = document.createElement('span');
      where.className = 'result-path';
      // The label shows where a click lands: the snippet's first line.
      const line = result.snippetLine ?? result.startLine;
      where.textContent = line !== null ? `${result.path}:${line}` : result.path;
      where.title = [result.title, result.startLine !== null ? `lines ${result.startLine}-${result.endLine}` : ''].filter(Boolean).join(' · ');
      const score = document.createElement('span');
      score.className = 'result-score';
      score.textContent = result.score.toFixed(3);
      score.title = Object.entries(result.scores)
        .map(([name, value]) => `${name}: ${Number.isInteger(value) ? value : value.toFixed(4)}`)
        .join('\n');
      const marks = document.createElement('span');
      marks.className = 'result-marks';
      marks.append(judgeButton(result, true), judgeButton(result, false));
      head.append(where, marks, score);
      const snippet = document.createElement('pre');
      snippet.className = 'result-snippet';
      snippet.textContent = result.snippet;
      item.append(head, snippet);
      return item;
    }),
  );
}

function showIndexState(indexState: IndexState, detail: string): void {
  indexButton.hidden = indexState !== 'missing' && indexState !== 'error';
  if (indexState !== 'ready' || !state.status) setStatus(detail, indexState === 'error');
}

function setStatus(text: string, isError = false): void {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

function save(update: Partial<ViewState>): void {
  state = { ...state, ...update };
  vscode.setState(state);
}

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`search view: #${id} is missing`);
  return found as T;
}
