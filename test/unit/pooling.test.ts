import { describe, expect, it } from 'vitest';
import { normalizeInPlace, poolBatch } from '../../src/core/embed/pooling';

// Two rows, three positions, hidden size 2; the second row's last position is padding.
const hidden = Float32Array.from([1, 2, 3, 4, 5, 6, /* row 2 */ -1, 0, 3, 8, 100, 100]);
const mask = [Uint8Array.from([1, 1, 1]), Uint8Array.from([1, 1, 0])];

describe('pooling', () => {
  it('cls takes the first token', () => {
    expect([...poolBatch(hidden, mask, 3, 2, 'cls', false)]).toEqual([1, 2, -1, 0]);
  });

  it('mean averages only unmasked tokens', () => {
    expect([...poolBatch(hidden, mask, 3, 2, 'mean', false)]).toEqual([3, 4, 1, 4]);
  });

  it('max ignores padding', () => {
    expect([...poolBatch(hidden, mask, 3, 2, 'max', false)]).toEqual([5, 6, 3, 8]);
  });

  it('lasttoken takes the last unmasked token', () => {
    expect([...poolBatch(hidden, mask, 3, 2, 'lasttoken', false)]).toEqual([5, 6, 3, 8]);
  });

  it('mean_sqrt_len divides the sum by the square root of the length', () => {
    const pooled = poolBatch(hidden, mask, 3, 2, 'mean_sqrt_len', false);
    expect(pooled[0]).toBeCloseTo(9 / Math.sqrt(3), 5);
    expect(pooled[3]).toBeCloseTo(8 / Math.sqrt(2), 5);
  });

  it('normalizes to unit length when asked', () => {
    const pooled = poolBatch(hidden, mask, 3, 2, 'mean', true);
    expect(pooled[0]).toBeCloseTo(0.6, 6);
    expect(pooled[1]).toBeCloseTo(0.8, 6);
    const zero = new Float32Array(3);
    normalizeInPlace(zero);
    expect([...zero]).toEqual([0, 0, 0]);
  });
});
