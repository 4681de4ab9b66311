import { describe, expect, it } from 'vitest';
import { FEW_SHOT_POOL } from '../../../src/core/synth/fewShotPool';
import { cutPassage, EXAMPLES_PER_PROMPT, MAX_PASSAGE_CHARS, promptMessages } from '../../../src/core/synth/prompt';
import { promptVersion, QUERY_TYPES, queryType } from '../../../src/core/synth/queryTypes';

describe('promptMessages', () => {
  it('shows three examples of the type as earlier turns, then the passage', () => {
    const messages = promptMessages(queryType('claim'), 'Some passage.', 'seed-1');
    expect(messages[0]).toEqual({ role: 'system', content: queryType('claim').instruction });
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user']);
    const claims = new Set(FEW_SHOT_POOL.map((example) => example.queries.claim));
    for (const answer of messages.filter((m) => m.role === 'assistant')) expect(claims.has(answer.content)).toBe(true);
    expect(new Set(messages.filter((m) => m.role === 'assistant').map((m) => m.content)).size).toBe(EXAMPLES_PER_PROMPT);
    expect(messages[messages.length - 1]).toEqual({ role: 'user', content: 'Passage:\nSome passage.' });
  });

  it('draws the same examples for the same seed and varies them across seeds', () => {
    const examples = (seed: string) => promptMessages(queryType('question'), 'x', seed).filter((m) => m.role === 'assistant').map((m) => m.content);
    expect(examples('a')).toEqual(examples('a'));
    const distinct = new Set(Array.from({ length: 40 }, (_, i) => examples(`seed-${i}`).join('|')));
    expect(distinct.size).toBeGreaterThan(20);
  });

  it('uses only technical examples for the technical types', () => {
    const prose = new Set(FEW_SHOT_POOL.filter((example) => example.queries.error === undefined).map((example) => example.passage));
    expect(prose.size).toBeGreaterThan(0);
    for (let i = 0; i < 30; i += 1) {
      for (const message of promptMessages(queryType('error'), 'x', `s${i}`)) expect(prose.has(message.content.replace(/^Passage:\n/, ''))).toBe(false);
    }
  });

  it('cuts passages to 2048 characters without splitting a surrogate pair', () => {
    expect(cutPassage('a'.repeat(5000))).toHaveLength(MAX_PASSAGE_CHARS);
    const cut = cutPassage(`${'a'.repeat(MAX_PASSAGE_CHARS - 1)}😀tail`);
    expect(cut).toHaveLength(MAX_PASSAGE_CHARS - 1);
  });

  it('gives every type a pool of at least eight examples and a prompt version that changes with its prompt', () => {
    for (const type of QUERY_TYPES) {
      expect(FEW_SHOT_POOL.filter((example) => example.queries[type.id] !== undefined).length).toBeGreaterThanOrEqual(8);
      expect(promptVersion({ ...type, instruction: `${type.instruction} ` })).not.toBe(promptVersion(type));
    }
  });
});
