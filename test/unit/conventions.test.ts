import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConventions, vectorDistance } from '../../src/core/models/conventions';
import { tempDir } from '../helpers/env';

function modelFolder(files: Record<string, unknown>): string {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

const modules = (...kinds: string[]) => kinds.map((kind, idx) => ({ idx, name: String(idx), path: kind === 'Pooling' ? '1_Pooling' : kind === 'Normalize' ? '2_Normalize' : '', type: `sentence_transformers.models.${kind}` }));

describe('model conventions', () => {
  it('reads sentence-transformers 2-5 files: boolean pooling flags, max_seq_length, prompts', () => {
    const dir = modelFolder({
      'config.json': { hidden_size: 384, max_position_embeddings: 512 },
      'modules.json': modules('Transformer', 'Pooling', 'Normalize'),
      '1_Pooling/config.json': { word_embedding_dimension: 384, pooling_mode_cls_token: true, pooling_mode_mean_tokens: false },
      'sentence_bert_config.json': { max_seq_length: 512, do_lower_case: true },
      'config_sentence_transformers.json': { prompts: { query: 'Represent this sentence for searching relevant passages: ', document: '' } },
    });
    expect(readConventions(dir)).toMatchObject({
      pooling: 'cls',
      normalize: true,
      maxSeqLength: 512,
      dimension: 384,
      queryPrompt: 'Represent this sentence for searching relevant passages: ',
      passagePrompt: '',
      includePrompt: true,
    });
  });

  it('reads sentence-transformers 6 files: pooling_mode name, embedding_dimension, tokenizer limit', () => {
    const dir = modelFolder({
      'config.json': { hidden_size: 768, max_position_embeddings: 514 },
      'modules.json': [
        { idx: 0, name: '0', path: '', type: 'sentence_transformers.base.modules.transformer.Transformer' },
        { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.sentence_transformer.modules.pooling.Pooling' },
      ],
      '1_Pooling/config.json': { embedding_dimension: 768, pooling_mode: 'mean', include_prompt: false },
      'tokenizer_config.json': { model_max_length: 256 },
      'config_sentence_transformers.json': { prompts: { query: 'query: ', passage: 'passage: ' } },
    });
    expect(readConventions(dir)).toMatchObject({ pooling: 'mean', normalize: false, maxSeqLength: 256, dimension: 768, queryPrompt: 'query: ', passagePrompt: 'passage: ', includePrompt: false });
  });

  it('caps an unbounded tokenizer limit by the position table', () => {
    const dir = modelFolder({
      'config.json': { hidden_size: 32, max_position_embeddings: 128 },
      'modules.json': modules('Transformer', 'Pooling'),
      '1_Pooling/config.json': { embedding_dimension: 32, pooling_mode: 'lasttoken' },
      'tokenizer_config.json': { model_max_length: 1e30 },
    });
    expect(readConventions(dir)).toMatchObject({ pooling: 'lasttoken', maxSeqLength: 128 });
  });

  it('falls back to mean pooling and normalisation for a plain checkpoint, and takes overrides', () => {
    const dir = modelFolder({ 'config.json': { hidden_size: 64 } });
    const plain = readConventions(dir);
    expect(plain).toMatchObject({ pooling: 'mean', normalize: true, maxSeqLength: 512, dimension: 64 });
    expect(plain.sources.join(' ')).toContain('defaults');
    expect(readConventions(dir, { pooling: 'cls', queryPrompt: 'q: ' })).toMatchObject({ pooling: 'cls', queryPrompt: 'q: ' });
  });

  it('reads the similarity function and picks the vector distance from it', () => {
    const folder = (similarity: string, normalize: boolean) =>
      modelFolder({
        'config.json': { hidden_size: 32 },
        'modules.json': normalize ? modules('Transformer', 'Pooling', 'Normalize') : modules('Transformer', 'Pooling'),
        '1_Pooling/config.json': { embedding_dimension: 32, pooling_mode: 'cls' },
        'config_sentence_transformers.json': { similarity_fn_name: similarity },
      });
    expect(readConventions(folder('dot', false)).similarity).toBe('dot');
    expect(vectorDistance(readConventions(folder('dot', false)))).toBe('dot');
    // Normalised vectors rank the same by dot and cosine; cosine is what the ANN index does well.
    expect(vectorDistance(readConventions(folder('dot', true)))).toBe('cosine');
    expect(vectorDistance(readConventions(folder('euclidean', false)))).toBe('l2');
    expect(readConventions(modelFolder({ 'config.json': { hidden_size: 8 } })).similarity).toBe('cosine');
    expect(() => readConventions(folder('manhattan', false))).toThrow(/compares vectors by "manhattan"/);
  });

  it('refuses modules it cannot run and ambiguous pooling, naming the problem', () => {
    const dense = modelFolder({
      'config.json': { hidden_size: 32 },
      'modules.json': modules('Transformer', 'Pooling', 'Dense'),
      '1_Pooling/config.json': { embedding_dimension: 32, pooling_mode: 'mean' },
    });
    expect(() => readConventions(dense)).toThrow(/sentence_transformers\.models\.Dense/);
    const twoModes = modelFolder({
      'config.json': { hidden_size: 32 },
      'modules.json': modules('Transformer', 'Pooling'),
      '1_Pooling/config.json': { embedding_dimension: 32, pooling_mode_cls_token: true, pooling_mode_mean_tokens: true },
    });
    expect(() => readConventions(twoModes)).toThrow(/cls \+ mean/);
    const broken = modelFolder({ 'config.json': { hidden_size: 32 }, 'modules.json': '{not json' });
    expect(() => readConventions(broken)).toThrow(/modules\.json is not valid JSON/);
  });
});
