import { QUERY_TYPE_IDS } from './queryTypes';

/**
 * Every type, one query each per passage. The paper's six are the method's mix (a mix beats any
 * single type); the three technical types apply only to technical passages (see
 * `isTechnicalPassage`), so prose corpora get exactly the paper's mix. The README records the
 * measurement behind this (parse success and round-trip pass rate per type).
 */
export const DEFAULT_SYNTH_TYPES: readonly string[] = QUERY_TYPE_IDS;
