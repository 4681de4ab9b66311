/**
 * One search result, as every front end shows it (CLI, search view, agents). Dependency-free so the
 * webview can share the type.
 */
export interface SearchResult {
  id: string;
  root: string;
  path: string;
  title: string;
  startLine: number | null;
  endLine: number | null;
  snippet: string;
  /** First line of the snippet in the file, when the passage's lines are known. */
  snippetLine: number | null;
  /** The score the results are ordered by (cosine, BM25 or fused). */
  score: number;
  scores: { dense?: number; bm25?: number; rrf?: number; denseRank?: number; bm25Rank?: number };
}

export type SearchMode = 'dense' | 'bm25' | 'hybrid';
export const SEARCH_MODES: readonly SearchMode[] = ['dense', 'bm25', 'hybrid'];
