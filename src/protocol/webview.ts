/**
 * The messages between the search view's webview and the extension host: one typed map shared by
 * both sides, each message named `area/verb`.
 */
export type SearchModeName = 'dense' | 'bm25' | 'hybrid';

export interface ResultItem {
  id: string;
  root: string;
  path: string;
  title: string;
  startLine: number | null;
  endLine: number | null;
  snippet: string;
  snippetLine: number | null;
  score: number;
  scores: Record<string, number>;
}

export type IndexState = 'missing' | 'indexing' | 'ready' | 'error';

/** Webview → extension. */
export type ToExtension =
  | { type: 'view/ready' }
  | { type: 'search/run'; query: string; mode: SearchModeName; k: number }
  | { type: 'result/open'; root: string; path: string; line: number | null }
  | { type: 'index/build' };

/** Extension → webview. */
export type ToWebview =
  | { type: 'search/results'; query: string; mode: SearchModeName; results: ResultItem[]; elapsedMs: number }
  | { type: 'search/error'; query: string; message: string; fix?: string }
  | { type: 'index/status'; state: IndexState; detail: string };
