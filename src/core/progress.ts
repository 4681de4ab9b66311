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
  /** The producer's own estimate of the time left, when it knows better than done/elapsed (a resumed or interleaved stage). */
  etaSeconds?: number;
}

export type ProgressListener = (event: ProgressEvent) => void;

export const ignoreProgress: ProgressListener = () => undefined;

/** 42s, 3m05s, 1h20m: for ETAs and elapsed times. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  // Round once, so 599.6 s is 10m00s rather than 9m60s.
  const whole = Math.round(Math.max(0, seconds));
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}
