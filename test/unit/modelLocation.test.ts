import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelLocation, recordedModelId } from '../../src/core/store/modelLocation';

describe("a model's location recorded in a store", () => {
  const store = path.resolve('/data/stores/notes');

  it('records a folder inside the store relative to it, and finds it again wherever the store is', () => {
    const copy = path.join(store, 'models', 'f4f978042d', 'tuned');
    expect(recordedModelId(store, copy)).toBe('./models/f4f978042d/tuned');
    expect(modelLocation(store, './models/f4f978042d/tuned')).toBe(copy);
    const moved = path.resolve('/elsewhere/notes');
    expect(modelLocation(moved, recordedModelId(store, copy))).toBe(path.join(moved, 'models', 'f4f978042d', 'tuned'));
  });

  it('keeps hub ids, folders outside the store, a sibling with the same prefix and the store itself as they are', () => {
    for (const modelId of ['sentence-transformers/all-MiniLM-L6-v2', path.resolve('/models/minilm'), `${store}-old/models/x`, store]) {
      expect(recordedModelId(store, modelId)).toBe(modelId);
      expect(modelLocation(store, modelId)).toBe(modelId);
    }
  });
});
