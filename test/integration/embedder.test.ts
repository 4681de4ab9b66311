import { describe, expect, it } from 'vitest';
import { Embedder } from '../../src/core/embed/embedder';
import { CancelledError } from '../../src/core/errors';
import { PARITY_TEXTS, cosine, referenceEmbeddings } from '../helpers/env';
import { tinyModel } from '../helpers/models';

describe('embedder (tiny random models, real onnxruntime)', () => {
  for (const pooling of ['cls', 'mean', 'max', 'lasttoken'] as const) {
    it(`matches sentence-transformers with ${pooling} pooling and a query prompt`, async () => {
      const model = await tinyModel({ pooling, queryPrompt: 'query: ' });
      const embedder = await Embedder.create({ model, threads: 1 });
      try {
        for (const kind of ['query', 'passage'] as const) {
          const ours = await embedder.embed(PARITY_TEXTS, kind);
          const reference = referenceEmbeddings(model.dir, PARITY_TEXTS, kind);
          ours.forEach((vector, i) => expect(cosine(vector, reference[i] as number[])).toBeGreaterThanOrEqual(0.9999));
        }
      } finally {
        await embedder.close();
      }
    });
  }

  it('keeps input order across length-sorted batches and several workers', async () => {
    const model = await tinyModel();
    const texts = Array.from({ length: 300 }, (_, i) => `${'item '.repeat((i * 7) % 50)}number ${i}`);
    const single = await Embedder.create({ model, threads: 1, maxBatchTokens: 256 });
    const pooled = await Embedder.create({ model, workers: 2, threads: 1 });
    try {
      const [a, b] = [await single.embed(texts, 'passage'), await pooled.embed(texts, 'passage')];
      const one = await single.embedOne(texts[123] as string, 'passage');
      expect(a).toHaveLength(300);
      a.forEach((vector, i) => expect(cosine(vector, b[i] as Float32Array)).toBeGreaterThan(0.99999));
      expect(cosine(one, a[123] as Float32Array)).toBeGreaterThan(0.99999);
      expect(single.stats.texts).toBe(301);
      expect(single.stats.paddedTokens).toBeGreaterThanOrEqual(single.stats.tokens);
    } finally {
      await Promise.all([single.close(), pooled.close()]);
    }
  });

  it('never blocks the caller’s event loop while embedding', async () => {
    const model = await tinyModel();
    const embedder = await Embedder.create({ model, threads: 1 });
    const texts = Array.from({ length: 2000 }, (_, i) => `passage ${i} ${'about retries and queues '.repeat(8)}`);
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 5);
    try {
      await embedder.embed(texts, 'passage');
    } finally {
      clearInterval(timer);
      await embedder.close();
    }
    // Inference runs on a worker thread, so timers keep firing throughout.
    expect(ticks).toBeGreaterThan(3);
  });

  it('stops when cancelled and reports progress', async () => {
    const model = await tinyModel();
    const embedder = await Embedder.create({ model, threads: 1 });
    const controller = new AbortController();
    const seen: number[] = [];
    const texts = Array.from({ length: 1000 }, (_, i) => `text ${i}`);
    try {
      await expect(
        embedder.embed(texts, 'passage', {
          signal: controller.signal,
          onProgress: (done) => {
            seen.push(done);
            if (done >= 128) controller.abort();
          },
        }),
      ).rejects.toBeInstanceOf(CancelledError);
      expect(seen[0]).toBe(0);
      expect(Math.max(...seen)).toBeLessThan(1000);
    } finally {
      await embedder.close();
    }
  });

  it('runs the int8 variant close to fp32', async () => {
    const model = await tinyModel({}, true);
    expect(model.int8?.version).not.toBe(model.fp32.version);
    const fp32 = await Embedder.create({ model, threads: 1 });
    const int8 = await Embedder.create({ model, threads: 1, precision: 'int8' });
    try {
      const a = await fp32.embed(PARITY_TEXTS, 'passage');
      const b = await int8.embed(PARITY_TEXTS, 'passage');
      const mean = a.reduce((sum, vector, i) => sum + cosine(vector, b[i] as Float32Array), 0) / a.length;
      expect(mean).toBeGreaterThan(0.99);
      expect(int8.version).toBe(model.int8?.version);
    } finally {
      await Promise.all([fp32.close(), int8.close()]);
    }
  });
});
