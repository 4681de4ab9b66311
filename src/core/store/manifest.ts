import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpecializeError } from '../errors';
import type { MetricSummary } from '../eval/metrics';
import { writeJsonAtomic } from '../util/atomic';

/**
 * Bump when the layout or schema changes in a way older code cannot read. Adding an optional field
 * (as `label`, `tunedFrom` and `evaluation` on ModelEntry were) needs no bump: older manifests
 * simply lack it, and older code ignores it.
 */
export const STORE_FORMAT = 1;
export const MANIFEST_FILE = 'store.json';

/** One model version's vectors in the store. */
export interface ModelEntry {
  version: string;
  /** How to get the model again: a Hugging Face id or a folder path. */
  modelId: string;
  precision: 'fp32' | 'int8';
  dimension: number;
  table: string;
  updated: string;
  /** A name the user gave this version, shown beside its hash-like id. */
  label?: string;
  /** The version a tuned model was trained from. */
  tunedFrom?: string;
  /** The latest evaluation of this version; absent until one is recorded. */
  evaluation?: ModelEvaluation;
}

/** How one model version scored, and on what, so versions can be compared before switching. */
export interface ModelEvaluation {
  /** ISO 8601 time of the evaluation. */
  evaluatedAt: string;
  /** Number of queries the metrics average over. */
  queries: number;
  /** What the queries were: 'held-out synthetic', 'user judgements', or a dataset's name. */
  source: string;
  metrics: MetricSummary;
  /** The version these scores were compared against, when there was one. */
  baseVersion?: string;
  /** The run directory that produced the evaluation. */
  run?: string;
}

export interface StoreManifest {
  kind: 'specialize-store';
  format: number;
  created: string;
  /** The model version searches use unless told otherwise. */
  activeModel: string | null;
  models: Record<string, ModelEntry>;
}

export function newManifest(): StoreManifest {
  return { kind: 'specialize-store', format: STORE_FORMAT, created: new Date().toISOString(), activeModel: null, models: {} };
}

/** Reads and checks store.json; `undefined` when the folder holds no store yet. */
export async function readManifest(dir: string): Promise<StoreManifest | undefined> {
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(file)) return undefined;
  let manifest: StoreManifest;
  try {
    manifest = JSON.parse(await fs.promises.readFile(file, 'utf8')) as StoreManifest;
  } catch (error) {
    throw corrupt(dir, `${MANIFEST_FILE} is not valid JSON (${(error as Error).message})`);
  }
  if (manifest.kind !== 'specialize-store' || typeof manifest.format !== 'number' || typeof manifest.models !== 'object' || manifest.models === null) {
    throw corrupt(dir, `${MANIFEST_FILE} is not a Specialize store manifest`);
  }
  if (manifest.format > STORE_FORMAT) {
    throw new SpecializeError(`The store at ${dir} was written by a newer Specialize (format ${manifest.format}; this one reads ${STORE_FORMAT}).`, 'Upgrade Specialize, or use another --store folder.', 'store-version');
  }
  if (manifest.format < STORE_FORMAT) {
    throw new SpecializeError(
      `The store at ${dir} uses the older format ${manifest.format} (this Specialize reads ${STORE_FORMAT}).`,
      `Rebuild it: move the folder aside and run \`specialize index <folder> --store ${dir}\` again (your source files are untouched).`,
      'store-version',
    );
  }
  return manifest;
}

export async function writeManifest(dir: string, manifest: StoreManifest): Promise<void> {
  await writeJsonAtomic(path.join(dir, MANIFEST_FILE), manifest);
}

export function corrupt(dir: string, why: string): SpecializeError {
  return new SpecializeError(
    `The store at ${dir} is damaged: ${why}.`,
    `Move the folder aside and re-index with \`specialize index <folder> --store ${dir}\`; your source files are untouched.`,
    'store-invalid',
  );
}
