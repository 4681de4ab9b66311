import { describe, expect, it } from 'vitest';
import { copiesPassage, parseQuery } from '../../../src/core/synth/parse';
import { queryType } from '../../../src/core/synth/queryTypes';

const question = queryType('question');
const identifier = queryType('identifier');
const passage =
  'The scheduler retries a failed job three times with exponential backoff before it moves the job to the dead-letter queue, where an operator can inspect and requeue it.';

describe('parseQuery', () => {
  it.each([
    ['How many times does the scheduler retry a failed job?', 'How many times does the scheduler retry a failed job?'],
    ['"How many times does the scheduler retry a failed job?"', 'How many times does the scheduler retry a failed job?'],
    ['\u201cWhere do failed jobs end up?\u201d', 'Where do failed jobs end up?'],
    ['Question: Where do failed jobs end up?', 'Where do failed jobs end up?'],
    ['**Question:** "Where do failed jobs end up?"', 'Where do failed jobs end up?'],
    ['1. Where do failed jobs end up?\n2. How are jobs requeued?', 'Where do failed jobs end up?'],
    ['- where do failed jobs end up', 'where do failed jobs end up'],
    ['Sure! Here is a question:\n\nWhere do failed jobs end up?', 'Where do failed jobs end up?'],
    ['Query:\nwhere do failed jobs go', 'where do failed jobs go'],
    ['<think>The passage is about retries. A good question would…</think>\nWhere do failed jobs end up?', 'Where do failed jobs end up?'],
    ['```\nwhere do failed jobs go\n```', 'where do failed jobs go'],
    ['  where   do failed\tjobs go  ', 'where do failed jobs go'],
  ])('reads %j as %j', (raw, expected) => {
    expect(parseQuery(raw, question, passage)).toEqual({ ok: true, query: expected });
  });

  it.each([
    ['', 'empty'],
    ['   \n\n  ', 'empty'],
    ['""', 'empty'],
    ['<think>Let me think about what a user would ask here and', 'empty'],
    ["I'm sorry, but I can't help with that.", 'refusal'],
    ['Passage: The scheduler retries a failed job', 'echoes-prompt'],
    [`${'why '.repeat(40)}?`, 'too-long'],
    ['Does the scheduler retry a failed job three times with exponential backoff before moving it?', 'copies-passage'],
  ])('rejects %j as %s', (raw, reason) => {
    expect(parseQuery(raw, question, passage)).toEqual({ ok: false, reason });
  });

  it('lets identifier and error lookups repeat the passage, which is what users paste', () => {
    const code = 'def move_to_dead_letter_queue(job, reason): requeue failed job later';
    expect(parseQuery('move_to_dead_letter_queue job reason requeue failed job later', identifier, code)).toEqual({
      ok: true,
      query: 'move_to_dead_letter_queue job reason requeue failed job later',
    });
  });
});

describe('copiesPassage', () => {
  it('flags eight words in a row from the passage, not a few shared words', () => {
    expect(copiesPassage('retries a failed job three times with exponential backoff', passage)).toBe(true);
    expect(copiesPassage('how does the scheduler handle a failed job', passage)).toBe(false);
  });

  it('flags a short query only when all of it is a run of at least six passage words', () => {
    expect(copiesPassage('where an operator can inspect and requeue', passage)).toBe(true);
    expect(copiesPassage('dead-letter queue inspect', passage)).toBe(false);
  });
});

describe('parseQuery on answers that run on', () => {
  it('keeps the first sentence of a line that goes on past the answer', () => {
    const raw = `Where do failed jobs end up? ${'They are parked in a queue that an operator reads every morning and '.repeat(3)}`;
    expect(parseQuery(raw, question, passage)).toEqual({ ok: true, query: 'Where do failed jobs end up?' });
  });
  it('rejects a long line without a sentence end', () => {
    expect(parseQuery('failed jobs '.repeat(30), question, passage)).toEqual({ ok: false, reason: 'too-long' });
  });
});

describe('parseQuery quality checks', () => {
  const keywords = queryType('keywords');
  it('keeps the first five phrases of a run-on keyword list', () => {
    const raw = 'retries, backoff, dead-letter queue, operator, requeue, scheduler, jobs, failures, queue, inspection, retry policy, exponential growth, timing, job runner, failure handling, operator tools, queue inspection, backoff timing, retry limits';
    expect(parseQuery(raw, keywords, passage)).toEqual({ ok: true, query: 'retries, backoff, dead-letter queue, operator, requeue' });
  });
  it('rejects answers without a word, and answers copied from the prompt examples', () => {
    expect(parseQuery('1, 2, 3', keywords, passage)).toEqual({ ok: false, reason: 'no-words' });
    expect(parseQuery('How do I skip a migration that was already applied by hand?', queryType('howto'), passage)).toEqual({ ok: false, reason: 'copies-example' });
  });
});
