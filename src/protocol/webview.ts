/**
 * The messages between the search view's webview and the extension host: one typed map shared by
 * both sides, each message named `area/verb`.
 */
import type { SearchMode, SearchResult } from '../core/search/result';

export type { SearchMode, SearchResult };

export type IndexState = 'missing' | 'indexing' | 'ready' | 'error';

/** Webview → extension. */
export type ToExtension =
  | { type: 'view/ready' }
  | { type: 'search/run'; query: string; mode: SearchMode; k: number }
  | { type: 'result/open'; root: string; path: string; line: number | null }
  /** The user marks a result (not) relevant to the query it was found for (null: withdraws the mark); tuning evaluates on these. */
  | { type: 'result/judge'; query: string; id: string; path: string; relevant: boolean | null }
  | { type: 'index/build' };

/** Extension → webview. */
export type ToWebview =
  /** `marks`: the user's earlier relevance marks on these results for this query (passage id → relevant). */
  | { type: 'search/results'; query: string; mode: SearchMode; results: SearchResult[]; elapsedMs: number; marks: Record<string, boolean> }
  | { type: 'search/error'; query: string; message: string; fix?: string }
  | { type: 'result/judged'; query: string; id: string; relevant: boolean | null; judgedQueries: number }
  | { type: 'result/judge-error'; id: string; message: string; fix?: string }
  | { type: 'index/status'; state: IndexState; detail: string };
