import { describe, expect, it } from 'vitest';
import { DEFAULT_TEACHER, DEFAULT_TEACHER_TEXT, describeTeacher, hasLexicalMember, parseTeacher, scorerSpec } from '../../src/core/tune/teacherSpec';

describe('teacher lists', () => {
  it('reads models and bm25, comma-separated, with the given kind for the models', () => {
    expect(parseTeacher(' org/a , /models/b,BM25', 'cross-encoder')).toEqual([
      { kind: 'cross-encoder', model: 'org/a' },
      { kind: 'cross-encoder', model: '/models/b' },
      { kind: 'lexical' },
    ]);
    expect(parseTeacher('org/a')).toEqual([{ kind: 'bi-encoder', model: 'org/a' }]);
    expect(parseTeacher(DEFAULT_TEACHER_TEXT)).toEqual(DEFAULT_TEACHER);
  });

  it('refuses empty names and repeated members, saying how to write the list', () => {
    expect(() => parseTeacher('org/a,,bm25')).toThrow(/has an empty name/);
    expect(() => parseTeacher('')).toThrow(/has an empty name/);
    expect(() => parseTeacher('org/a,org/a')).toThrow(/names org\/a twice/);
  });

  it('makes one model a single scorer, and several members an ensemble with resolved folders in order', () => {
    expect(scorerSpec([{ kind: 'bi-encoder', model: 'org/a' }], ['/cache/a'])).toEqual({ kind: 'bi-encoder', model: '/cache/a' });
    expect(scorerSpec(parseTeacher('org/a,bm25,org/b'), ['/cache/a', '/cache/b'])).toEqual({
      kind: 'ensemble',
      members: [{ kind: 'bi-encoder', model: '/cache/a' }, { kind: 'lexical' }, { kind: 'bi-encoder', model: '/cache/b' }],
    });
  });

  it('describes the teacher for reports and says when BM25 scores must be written', () => {
    expect(describeTeacher(parseTeacher('org/a'))).toBe('bi-encoder org/a');
    expect(describeTeacher(DEFAULT_TEACHER)).toBe('ensemble of bi-encoder BAAI/bge-small-en-v1.5 + bi-encoder Xenova/e5-small-v2-int8 + BM25');
    expect(hasLexicalMember(DEFAULT_TEACHER)).toBe(true);
    expect(hasLexicalMember(parseTeacher('org/a,org/b'))).toBe(false);
  });
});
