import * as fs from 'node:fs';
import * as path from 'node:path';
import { throwIfAborted } from '../errors';
import { resolveModel } from '../models/resolver';

/** Where a store keeps the models tuned into it, one folder per model content. */
export const STORE_MODELS_DIR = 'models';

/**
 * Copies a tuned model's exported folder out of its run folder into the store it is embedded into,
 * and returns the copy, which the store's version record then names. A version that named the run's
 * own `export/` broke once the run folder was set aside (`tune --fresh`, which refusals suggest) or
 * deleted, and a later run's export in its place is another model: searches with an active tuned
 * version failed until it was re-embedded. The copy is made once per model content: the folder is
 * named by the export's content hash (the same hash its version ends with), and appears complete or
 * not at all.
 */
export async function keepModelInStore(exportDir: string, storeDir: string, name: 'tuned' | 'infonce', signal?: AbortSignal): Promise<string> {
  const exported = await resolveModel(exportDir, signal ? { signal } : {});
  const contentHash = exported.fp32.version.slice(exported.fp32.version.lastIndexOf('-') + 1);
  const target = path.join(path.resolve(storeDir), STORE_MODELS_DIR, contentHash, name);
  if (fs.existsSync(target)) return target;
  throwIfAborted(signal, 'copying the tuned model into the store');
  const partial = `${target}.partial-${process.pid}`;
  await fs.promises.rm(partial, { recursive: true, force: true });
  await fs.promises.mkdir(path.dirname(target), { recursive: true });
  try {
    await fs.promises.cp(exportDir, partial, { recursive: true });
    await fs.promises.rename(partial, target);
  } catch (error) {
    await fs.promises.rm(partial, { recursive: true, force: true });
    throw error;
  }
  return target;
}
