import { describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../src/core/embed/tokenize';
import { PARITY_TEXTS, referenceTokenIds } from '../helpers/env';
import { defaultModel, tinyModelDir } from '../helpers/models';

describe('tokenizer', () => {
  it('matches the Hugging Face tokenizer of the default model, truncation included', async () => {
    const model = await defaultModel();
    const tokenizer = TextTokenizer.fromModelDir(model.dir, model.conventions.maxSeqLength);
    const expected = referenceTokenIds(model.dir, PARITY_TEXTS, model.conventions.maxSeqLength);
    PARITY_TEXTS.forEach((text, i) => expect(tokenizer.encode(text).ids, JSON.stringify(text.slice(0, 40))).toEqual(expected[i]));
    // The long inputs really were truncated to the model's limit.
    expect(tokenizer.encode(PARITY_TEXTS[9] as string).ids).toHaveLength(model.conventions.maxSeqLength);
  });

  it('matches on a text far longer than the pre-tokenization cut (1 MB)', async () => {
    const model = await defaultModel();
    const tokenizer = TextTokenizer.fromModelDir(model.dir, 128);
    const huge = `${'a'.repeat(5000)} ${'lorem ipsum dolor '.repeat(60000)}`;
    expect(tokenizer.encode(huge).ids).toEqual(referenceTokenIds(model.dir, [huge], 128)[0]);
  });

  it('counts prompt tokens the way sentence-transformers does', () => {
    const dir = tinyModelDir({ queryPrompt: 'query: ' });
    const tokenizer = TextTokenizer.fromModelDir(dir, 64);
    // [CLS] + "query" + ":" — the trailing [SEP] is not part of the prompt.
    expect(tokenizer.promptLength('query: ')).toBe(3);
    expect(tokenizer.promptLength('')).toBe(0);
  });
});
