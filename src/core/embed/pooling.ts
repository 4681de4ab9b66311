import type { PoolingMode } from '../models/conventions';

/**
 * Pools token embeddings `[batch, seq, hidden]` into one vector per row, masking padding, then
 * L2-normalises when the model's conventions say so. Matches sentence-transformers' Pooling and
 * Normalize modules.
 */
export function poolBatch(
  hidden: Float32Array,
  mask: readonly Uint8Array[],
  seqLength: number,
  hiddenSize: number,
  mode: PoolingMode,
  normalize: boolean,
): Float32Array {
  const batch = mask.length;
  const out = new Float32Array(batch * hiddenSize);
  for (let b = 0; b < batch; b += 1) {
    const rowMask = mask[b] as Uint8Array;
    const target = out.subarray(b * hiddenSize, (b + 1) * hiddenSize);
    const base = b * seqLength * hiddenSize;
    poolRow(hidden, base, rowMask, hiddenSize, mode, target);
    if (normalize) normalizeInPlace(target);
  }
  return out;
}

function poolRow(hidden: Float32Array, base: number, mask: Uint8Array, hiddenSize: number, mode: PoolingMode, target: Float32Array): void {
  if (mode === 'cls') {
    target.set(hidden.subarray(base, base + hiddenSize));
    return;
  }
  if (mode === 'lasttoken') {
    const last = mask.lastIndexOf(1);
    const offset = base + Math.max(0, last) * hiddenSize;
    target.set(hidden.subarray(offset, offset + hiddenSize));
    return;
  }
  if (mode === 'max') {
    target.fill(-Infinity);
    for (let t = 0; t < mask.length; t += 1) {
      if (!mask[t]) continue;
      const offset = base + t * hiddenSize;
      for (let h = 0; h < hiddenSize; h += 1) target[h] = Math.max(target[h] as number, hidden[offset + h] as number);
    }
    return;
  }
  // mean and mean_sqrt_len: sum in float64 to match PyTorch's accuracy on long inputs.
  const sum = new Float64Array(hiddenSize);
  let count = 0;
  for (let t = 0; t < mask.length; t += 1) {
    if (!mask[t]) continue;
    count += 1;
    const offset = base + t * hiddenSize;
    for (let h = 0; h < hiddenSize; h += 1) sum[h] = (sum[h] as number) + (hidden[offset + h] as number);
  }
  const divisor = Math.max(mode === 'mean' ? count : Math.sqrt(count), 1e-9);
  for (let h = 0; h < hiddenSize; h += 1) target[h] = (sum[h] as number) / divisor;
}

export function normalizeInPlace(vector: Float32Array): void {
  let norm = 0;
  for (const value of vector) norm += value * value;
  // sentence-transformers' Normalize uses F.normalize, which clamps the norm at 1e-12.
  const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
  for (let i = 0; i < vector.length; i += 1) vector[i] = (vector[i] as number) * scale;
}
