import * as path from 'node:path';
import type { ModelEntry } from './manifest';

/** How store.json names a model folder inside the store: relative to the store, in POSIX form. */
const STORE_RELATIVE = './';

/**
 * The model id to record in a store: a folder inside the store (a tuned model's copy) is written
 * relative to it, so the store can be moved or copied as a whole and its tuned versions still load;
 * anything else (a hub id, a folder elsewhere) as it is.
 */
export function recordedModelId(storeDir: string, modelId: string): string {
  if (!path.isAbsolute(modelId)) return modelId;
  const relative = path.relative(path.resolve(storeDir), modelId);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return modelId;
  return STORE_RELATIVE + relative.split(path.sep).join('/');
}

/** Whether a recorded model id is a folder inside the store (a copy the store owns). */
export function isInsideStore(modelId: string): boolean {
  return modelId.startsWith(STORE_RELATIVE);
}

/** Where a recorded model id points from this store: the inverse of `recordedModelId`. */
export function modelLocation(storeDir: string, modelId: string): string {
  return isInsideStore(modelId) ? path.join(path.resolve(storeDir), ...modelId.slice(STORE_RELATIVE.length).split('/')) : modelId;
}

/** The entry with its model id as a usable location (what the store's readers see). */
export function locatedEntry(storeDir: string, entry: ModelEntry): ModelEntry {
  return { ...entry, modelId: modelLocation(storeDir, entry.modelId) };
}
