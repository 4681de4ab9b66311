import { sha256Hex } from '../util/hash';
import { FEW_SHOT_POOL } from './fewShotPool';

/**
 * The kinds of query the LLM writes. The first six are the method's (Tamber et al.: a mix of types
 * beats any single one); the last three are what people type when they search code and technical
 * docs, and apply only to technical passages (on prose, "how do I" answers were mostly nonsense:
 * 25% round-trip pass in bench/synth.ts, the lowest of any type).
 */
export interface QueryType {
  id: string;
  /** What the model is asked to write (the system message). */
  instruction: string;
  /** Longest acceptable answer in words (the parser rejects longer ones as rambling). */
  maxWords: number;
  /**
   * Whether the answer may repeat the passage verbatim. An error message or an identifier is
   * naturally copied from the passage; a question that copies eight words in a row is not a
   * question a user would type, and teaches the retriever string matching.
   */
  mayCopy: boolean;
  /** Only for passages of code, configuration and technical documentation. */
  technicalOnly: boolean;
}

const ANSWER_ONLY = 'Reply with that text only, on one line, without quotes or explanations.';

export const QUERY_TYPES: readonly QueryType[] = [
  {
    id: 'question',
    instruction: `Write one natural question that the passage answers directly. It must stand alone (no "this passage"), be under 20 words, and not copy long phrases from the passage. ${ANSWER_ONLY}`,
    maxWords: 30,
    mayCopy: false,
    technicalOnly: false,
  },
  {
    id: 'claim',
    instruction: `Write one specific statement that the passage supports, under 20 words, in your own words. ${ANSWER_ONLY}`,
    maxWords: 30,
    mayCopy: false,
    technicalOnly: false,
  },
  {
    id: 'title',
    instruction: `Write a short title for the passage, under 20 words. ${ANSWER_ONLY}`,
    maxWords: 25,
    mayCopy: false,
    technicalOnly: false,
  },
  {
    id: 'keywords',
    instruction: `Write up to 5 comma-separated keywords or key phrases for the passage, general rather than copied. ${ANSWER_ONLY}`,
    maxWords: 25,
    mayCopy: false,
    technicalOnly: false,
  },
  {
    id: 'search',
    instruction: `Write a casual search query, under 20 words, that someone looking for this information would type into a search box. ${ANSWER_ONLY}`,
    maxWords: 25,
    mayCopy: false,
    technicalOnly: false,
  },
  {
    id: 'msmarco',
    instruction: `Write a short web-search query, like those people type into a search engine, that this passage answers. ${ANSWER_ONLY}`,
    maxWords: 20,
    mayCopy: false,
    technicalOnly: false,
  },
  {
    id: 'howto',
    instruction: `Write one "how do I ..." question a developer would ask that this passage helps with, under 20 words. ${ANSWER_ONLY}`,
    maxWords: 30,
    mayCopy: false,
    technicalOnly: true,
  },
  {
    id: 'error',
    instruction: `Write an error message or symptom that a developer would paste into a search box and that this passage helps to fix or explain. ${ANSWER_ONLY}`,
    maxWords: 40,
    mayCopy: true,
    technicalOnly: true,
  },
  {
    id: 'identifier',
    instruction: `Write a short lookup for a function, class, option, command or setting defined or described in this passage, as a developer would search for it. ${ANSWER_ONLY}`,
    maxWords: 12,
    mayCopy: true,
    technicalOnly: true,
  },
];

export const QUERY_TYPE_IDS = QUERY_TYPES.map((type) => type.id);

/** The method's six: the default mix for prose. */
export const PAPER_TYPE_IDS = ['question', 'claim', 'title', 'keywords', 'search', 'msmarco'];

export function queryType(id: string): QueryType {
  const type = QUERY_TYPES.find((candidate) => candidate.id === id);
  if (!type) throw new Error(`unknown query type "${id}"`);
  return type;
}

/**
 * Identifies a type's prompt: its instruction and few-shot pool. Part of every cache key, so
 * editing a prompt regenerates that type's queries instead of mixing old answers with new prompts.
 */
export function promptVersion(type: QueryType): string {
  const pool = FEW_SHOT_POOL.flatMap((example) => (example.queries[type.id] === undefined ? [] : [[example.passage, example.queries[type.id]]]));
  return sha256Hex(JSON.stringify({ instruction: type.instruction, pool, template: PROMPT_TEMPLATE_VERSION })).slice(0, 12);
}

/** Bumped when the way prompts are assembled (promptMessages) changes. */
export const PROMPT_TEMPLATE_VERSION = 1;
