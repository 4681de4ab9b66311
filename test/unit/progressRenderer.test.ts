import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgressRenderer } from '../../src/cli/progressRenderer';
import { formatDuration } from '../../src/core/progress';

describe('progress lines (non-terminal stderr)', () => {
  afterEach(() => vi.restoreAllMocks());

  it("prefers the producer's ETA to done/elapsed, and shows it once", () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const render = createProgressRenderer();
    // A resumed stage: 40 of 56 steps were done before this process started, so done/elapsed would say seconds.
    render({ stage: 'train', done: 40, total: 56, unit: 'steps', etaSeconds: 185, message: 'total 0.31' });
    render.stop();
    expect(lines).toEqual(['train: 40/56 steps ETA 3m05s total 0.31\n']);
  });

  it('formats durations for ETAs', () => {
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(4800)).toBe('1h20m');
    expect(formatDuration(599.6)).toBe('10m00s');
    expect(formatDuration(59.6)).toBe('1m00s');
    expect(formatDuration(Number.NaN)).toBe('?');
  });
});
