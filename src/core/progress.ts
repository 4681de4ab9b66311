/**
 * Progress of long work, reported by the engine and rendered by each front end (CLI bars, the
 * VS Code status bar and notifications). `total` is 0 when unknown.
 */
export interface ProgressEvent {
  stage: string;
  done: number;
  total: number;
  /** What `done` counts: "passages", "bytes", "queries", … */
  unit: string;
  message?: string;
}

export type ProgressListener = (event: ProgressEvent) => void;

export const ignoreProgress: ProgressListener = () => undefined;
