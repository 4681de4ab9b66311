/**
 * mulberry32: a 32-bit seeded generator, uniform on [0, 1). Not Math.random, which cannot be
 * seeded: samples, splits and bootstrap intervals must come out the same on every run, or a rerun
 * would move passages between training and evaluation, or report a different interval for the
 * same numbers. 32 bits of state are plenty for shuffling and resampling (period 2^32).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
