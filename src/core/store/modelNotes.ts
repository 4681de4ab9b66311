import { SpecializeError } from '../errors';
import type { ModelEvaluation } from './manifest';

/**
 * Checks what callers write beside a model version in store.json. The manifest is read back by
 * every later command and by people comparing versions, so a NaN metric or a blank label is
 * refused at the door instead of showing up later as a confusing table.
 */

const METRIC_KEYS = ['ndcg@10', 'recall@100', 'mrr@10'] as const;
const MAX_LABEL_LENGTH = 100;

export function checkEvaluation(evaluation: ModelEvaluation): void {
  const problem = (what: string, fix: string) => new SpecializeError(`The evaluation to record is invalid: ${what}.`, fix, 'invalid-input');
  if (Number.isNaN(Date.parse(evaluation.evaluatedAt))) throw problem(`evaluatedAt ${JSON.stringify(evaluation.evaluatedAt)} is not a date`, 'Pass an ISO 8601 time, e.g. new Date().toISOString().');
  if (!Number.isInteger(evaluation.queries) || evaluation.queries < 1) throw problem(`queries is ${evaluation.queries}`, 'Pass the number of queries scored (a whole number ≥ 1).');
  if (!evaluation.source.trim()) throw problem('source is empty', "Say what the queries were, e.g. 'held-out synthetic' or a dataset's name.");
  for (const key of METRIC_KEYS) {
    const value = evaluation.metrics[key] as unknown;
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw problem(`${key} is ${String(value)}`, `Pass ${METRIC_KEYS.join(', ')}, each between 0 and 1.`);
  }
}

/** A label is one short line; surrounding spaces are dropped. */
export function normalizeLabel(label: string): string {
  const trimmed = label.trim();
  if (!trimmed || trimmed.length > MAX_LABEL_LENGTH || /[\p{Cc}]/u.test(trimmed)) {
    throw new SpecializeError(`The label ${JSON.stringify(label)} is not one line of 1 to ${MAX_LABEL_LENGTH} characters.`, 'Choose a short one-line name, e.g. "tuned on docs, May".', 'invalid-input');
  }
  return trimmed;
}

/** The base of a tuned version: another version's id (it need not be in this store). */
export function checkTunedFrom(version: string, tunedFrom: string): string {
  if (!tunedFrom.trim()) throw new SpecializeError(`No base version was given for ${version}.`, 'Pass the version the tuning started from as tunedFrom.', 'invalid-input');
  if (tunedFrom === version) throw new SpecializeError(`Model version ${version} cannot be tuned from itself.`, 'Pass the version the tuning started from as tunedFrom.', 'invalid-input');
  return tunedFrom;
}
