import { SingleBar } from 'cli-progress';
import { formatDuration, type ProgressEvent, type ProgressListener } from '../core/progress';

/**
 * Renders engine progress on stderr: a live bar with rate and ETA on a terminal, and a plain line
 * every few seconds otherwise (CI logs, pipes), so stdout stays clean for results.
 */
export function createProgressRenderer(options: { quiet?: boolean } = {}): ProgressListener & { stop(): void } {
  if (options.quiet) return Object.assign(() => undefined, { stop: () => undefined });
  return process.stderr.isTTY ? ttyRenderer() : lineRenderer();
}

function ttyRenderer(): ProgressListener & { stop(): void } {
  let bar: SingleBar | undefined;
  let stage = '';
  let stageStart = 0;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  const listener = (event: ProgressEvent) => {
    if (event.stage !== stage) {
      stop();
      stage = event.stage;
      stageStart = performance.now();
      bar = new SingleBar({
        stream: process.stderr,
        format: `${event.stage.padEnd(18)} [{bar}] {percentage}% | {done}/{all} {unit} | {rate}/s | ETA {eta_text}{message}`,
        hideCursor: true,
        etaBuffer: 50,
      });
      bar.start(Math.max(event.total, 1), 0, { unit: event.unit, rate: '0', done: '0', all: '?', message: '', eta_text: '?' });
    }
    const elapsed = (performance.now() - stageStart) / 1000;
    bar?.setTotal(Math.max(event.total, event.done, 1));
    bar?.update(event.done, {
      unit: event.unit,
      done: formatCount(event.done, event.unit),
      all: event.total > 0 ? formatCount(event.total, event.unit) : '?',
      rate: elapsed > 0 ? formatCount(event.done / elapsed, event.unit) : '0',
      eta_text: event.etaSeconds !== undefined ? formatDuration(event.etaSeconds) : elapsed > 0 && event.done > 0 ? formatDuration(Math.max(0, event.total - event.done) / (event.done / elapsed)) : '?',
      // Live figures of the stage (kept / dropped by reason, tokens for query writing).
      message: event.message ? ` | ${event.message}` : '',
    });
  };
  return Object.assign(listener, { stop });
}

function lineRenderer(): ProgressListener & { stop(): void } {
  let stage = '';
  let stageStart = 0;
  let lastPrint = 0;
  /** Seconds between plain progress lines: enough to follow, few enough for a readable log. */
  const INTERVAL_MS = 5000;
  const listener = (event: ProgressEvent) => {
    const now = performance.now();
    const newStage = event.stage !== stage;
    if (newStage) {
      stage = event.stage;
      stageStart = now;
    }
    const finished = event.total > 0 && event.done >= event.total;
    if (!newStage && !finished && now - lastPrint < INTERVAL_MS) return;
    lastPrint = now;
    const elapsed = (now - stageStart) / 1000;
    const rate = elapsed > 0 ? event.done / elapsed : 0;
    const left = event.etaSeconds ?? (rate > 0 && event.total > event.done ? (event.total - event.done) / rate : undefined);
    const eta = left !== undefined ? ` ETA ${formatDuration(left)}` : '';
    const total = event.total > 0 ? `/${formatCount(event.total, event.unit)}` : '';
    // A stage that has not counted anything yet (total unknown) just announces itself.
    const count = event.total === 0 && event.done === 0 ? '' : ` ${formatCount(event.done, event.unit)}${total} ${event.unit}${eta}`;
    process.stderr.write(`${event.stage}:${count}${event.message ? ` ${event.message}` : ''}\n`);
  };
  return Object.assign(listener, { stop: () => undefined });
}

function formatCount(value: number, unit: string): string {
  if (unit === 'bytes') return value >= 1e6 ? `${(value / 1e6).toFixed(1)}M` : `${Math.round(value / 1e3)}k`;
  return value >= 100 || Number.isInteger(value) ? String(Math.round(value)) : value.toFixed(1);
}
