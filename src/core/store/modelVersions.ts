import { SpecializeError } from '../errors';
import type { ModelEntry } from './manifest';

/**
 * Picking a model version by what a person types. Versions are long (`<model>-<10 hex>`), so a
 * unique prefix is enough; an exact match always wins, so no version is ever unreachable because
 * another one starts with it.
 */
export function findModelVersion(models: Readonly<Record<string, ModelEntry>>, wanted: string, storeDir: string): ModelEntry {
  const exact = models[wanted];
  if (exact) return exact;
  const matches = wanted ? Object.values(models).filter((entry) => entry.version.startsWith(wanted)) : [];
  if (matches.length === 1) return matches[0] as ModelEntry;
  if (matches.length > 1) {
    throw new SpecializeError(
      `"${wanted}" matches ${matches.length} model versions in the index at ${storeDir}: ${matches.map((entry) => entry.version).join(', ')}.`,
      'Type more of the version, enough to pick exactly one.',
      'invalid-input',
    );
  }
  throw unknownModelVersion(models, wanted, storeDir);
}

export function unknownModelVersion(models: Readonly<Record<string, ModelEntry>>, version: string, storeDir: string): SpecializeError {
  const known = Object.keys(models);
  return new SpecializeError(
    `The index at ${storeDir} has no model version ${version}.`,
    known.length > 0 ? `Known versions: ${known.join(', ')}.` : `It has no model versions yet; build one with \`specialize index <folder> --store ${storeDir}\`.`,
    'not-found',
  );
}
