import { sha256Hex } from '../util/hash';
import type { ChatMessage } from './llm/types';
import { FEW_SHOT_POOL } from './fewShotPool';
import type { QueryType } from './queryTypes';

/** The method cuts passages to 2048 characters: enough context, bounded prompt cost. */
export const MAX_PASSAGE_CHARS = 2048;
/** Examples per prompt (the method: 3, drawn at random from the pool). */
export const EXAMPLES_PER_PROMPT = 3;
/** The method's sampling settings. */
export const GENERATION = { temperature: 0.8, maxTokens: 50 } as const;

/**
 * The chat for one query: the type's instruction as the system message, then three examples as
 * earlier turns (passage from the user, query from the assistant), then the passage. Examples as
 * turns rather than inline text make even small chat models answer in the examples' format.
 * The examples are drawn by `seed` (derived from the cache key), so a rerun sends the same prompt.
 */
export function promptMessages(type: QueryType, passage: string, seed: string): ChatMessage[] {
  const pool = FEW_SHOT_POOL.flatMap((example) => {
    const query = example.queries[type.id];
    return query === undefined ? [] : [{ passage: example.passage, query }];
  });
  const examples = drawWithoutReplacement(pool, EXAMPLES_PER_PROMPT, seed);
  const messages: ChatMessage[] = [{ role: 'system', content: type.instruction }];
  for (const example of examples) {
    messages.push({ role: 'user', content: passageMessage(example.passage) }, { role: 'assistant', content: example.query });
  }
  messages.push({ role: 'user', content: passageMessage(cutPassage(passage)) });
  return messages;
}

export function cutPassage(text: string): string {
  if (text.length <= MAX_PASSAGE_CHARS) return text;
  // Never end inside a surrogate pair: a lone surrogate is invalid in the JSON sent to the endpoint.
  const cut = text.slice(0, MAX_PASSAGE_CHARS);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

function passageMessage(passage: string): string {
  return `Passage:\n${passage}`;
}

/** `count` distinct items picked by a hash-seeded order: deterministic per seed, uniform over seeds. */
function drawWithoutReplacement<T>(items: readonly T[], count: number, seed: string): T[] {
  return items
    .map((item, index) => ({ item, rank: sha256Hex(`${seed}:${index}`) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .slice(0, count)
    .map((entry) => entry.item);
}
