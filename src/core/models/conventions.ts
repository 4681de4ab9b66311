import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpecializeError } from '../errors';

/**
 * How a model turns text into one vector, read from the model's own sentence-transformers files
 * (`modules.json`, `1_Pooling/config.json`, `sentence_bert_config.json`,
 * `config_sentence_transformers.json`) — never guessed from its name.
 */
export interface ModelConventions {
  pooling: PoolingMode;
  /** Whether the prompt's tokens take part in pooling (sentence-transformers `include_prompt`). */
  includePrompt: boolean;
  normalize: boolean;
  /** Maximum tokens per input, special tokens included; longer inputs are truncated. */
  maxSeqLength: number;
  dimension: number;
  /** How the model compares vectors (sentence-transformers `similarity_fn_name`). */
  similarity: Similarity;
  /** Text prepended to queries and to passages (sentence-transformers prompts). */
  queryPrompt: string;
  passagePrompt: string;
  /** Where each value came from, so `doctor`-style output can show guesses. */
  sources: string[];
}

export type PoolingMode = 'cls' | 'mean' | 'max' | 'mean_sqrt_len' | 'lasttoken';
export type Similarity = 'cosine' | 'dot' | 'euclidean';

/** Overrides for models whose folder does not say (plain Hugging Face checkpoints). */
export type ConventionOverrides = Partial<Pick<ModelConventions, 'pooling' | 'normalize' | 'maxSeqLength' | 'queryPrompt' | 'passagePrompt'>>;

export type VectorDistance = 'cosine' | 'dot' | 'l2';

/**
 * The distance a vector index should use for this model. The embedder stores normalised vectors
 * for normalising and cosine models, and for those cosine ranks exactly like the dot product:
 * LanceDB 0.31's HNSW index with dot distance recalled only 0.62 of the true top 10 on the dev
 * collections, with cosine 0.99.
 */
export function vectorDistance(conventions: Pick<ModelConventions, 'similarity' | 'normalize'>): VectorDistance {
  if (conventions.normalize || conventions.similarity === 'cosine') return 'cosine';
  return conventions.similarity === 'dot' ? 'dot' : 'l2';
}

const SUPPORTED_MODULES = new Set(['Transformer', 'Pooling', 'Normalize']);

export function readConventions(modelDir: string, overrides: ConventionOverrides = {}): ModelConventions {
  const sources: string[] = [];
  const config = readJson(modelDir, 'config.json') ?? {};
  const modules = readJson(modelDir, 'modules.json') as { type?: string; path?: string }[] | undefined;

  let poolingConfig: Record<string, unknown> | undefined;
  let normalize = false;
  if (modules) {
    if (!Array.isArray(modules)) throw invalid(modelDir, 'modules.json is not a list');
    for (const module of modules) {
      const kind = String(module.type ?? '').split('.').pop() ?? '';
      if (!SUPPORTED_MODULES.has(kind)) {
        throw new SpecializeError(
          `Model ${modelDir} uses the sentence-transformers module "${module.type}", which Specialize cannot run in ONNX.`,
          'Use a model made of Transformer, Pooling and Normalize modules (BGE, E5, GTE, MiniLM, Arctic and most retrievers are).',
          'model-invalid',
        );
      }
      if (kind === 'Pooling') poolingConfig = readJson(modelDir, path.join(module.path ?? '1_Pooling', 'config.json'));
      if (kind === 'Normalize') normalize = true;
    }
    sources.push('modules.json');
  }

  let pooling = poolingConfig ? poolingFromConfig(poolingConfig, modelDir) : undefined;
  if (pooling) sources.push('pooling config');
  const includePrompt = poolingConfig?.include_prompt !== false;

  const stConfig = readJson(modelDir, 'sentence_bert_config.json');
  const tokenizerConfig = readJson(modelDir, 'tokenizer_config.json');
  const positions = numberOr(config.max_position_embeddings, Infinity);
  let maxSeqLength = numberOr(stConfig?.max_seq_length, NaN);
  if (Number.isFinite(maxSeqLength)) sources.push('sentence_bert_config.json');
  else {
    // sentence-transformers' own fallback: the tokenizer's limit, capped by the position table.
    maxSeqLength = Math.min(numberOr(tokenizerConfig?.model_max_length, Infinity), positions);
    if (!Number.isFinite(maxSeqLength)) maxSeqLength = 512;
  }

  const stTopConfig = readJson(modelDir, 'config_sentence_transformers.json');
  const prompts = (stTopConfig?.prompts ?? {}) as Record<string, unknown>;
  const similarity = stringOr(stTopConfig?.similarity_fn_name, 'cosine');
  if (similarity !== 'cosine' && similarity !== 'dot' && similarity !== 'euclidean') {
    throw invalid(modelDir, `it compares vectors by "${similarity}"; Specialize supports cosine, dot and euclidean`);
  }
  const queryPrompt = stringOr(prompts.query, '');
  const passagePrompt = stringOr(prompts.document ?? prompts.passage ?? prompts.corpus, '');
  if (Object.keys(prompts).length > 0) sources.push('config_sentence_transformers.json prompts');

  const dimension = numberOr(poolingConfig?.embedding_dimension ?? poolingConfig?.word_embedding_dimension, numberOr(config.hidden_size, NaN));
  if (!Number.isFinite(dimension)) throw invalid(modelDir, 'neither 1_Pooling/config.json nor config.json states the embedding size');

  if (!pooling && !overrides.pooling) {
    // A plain checkpoint without sentence-transformers files: mean pooling is the common default.
    pooling = 'mean';
    normalize = true;
    sources.push('defaults (no modules.json): mean pooling, normalized');
  }
  return {
    pooling: overrides.pooling ?? pooling ?? 'mean',
    includePrompt,
    normalize: overrides.normalize ?? normalize,
    maxSeqLength: overrides.maxSeqLength ?? maxSeqLength,
    dimension,
    similarity,
    queryPrompt: overrides.queryPrompt ?? queryPrompt,
    passagePrompt: overrides.passagePrompt ?? passagePrompt,
    sources,
  };
}

function poolingFromConfig(config: Record<string, unknown>, modelDir: string): PoolingMode {
  // sentence-transformers ≥ 6 writes `pooling_mode` (a name, or a list of names); older versions
  // write one boolean flag per mode.
  const byName: Record<string, PoolingMode> = { cls: 'cls', mean: 'mean', max: 'max', mean_sqrt_len_tokens: 'mean_sqrt_len', lasttoken: 'lasttoken' };
  const flags: [string, string][] = [
    ['pooling_mode_cls_token', 'cls'],
    ['pooling_mode_mean_tokens', 'mean'],
    ['pooling_mode_max_tokens', 'max'],
    ['pooling_mode_mean_sqrt_len_tokens', 'mean_sqrt_len_tokens'],
    ['pooling_mode_weightedmean_tokens', 'weightedmean'],
    ['pooling_mode_lasttoken', 'lasttoken'],
  ];
  const declared = config.pooling_mode;
  const names =
    typeof declared === 'string' ? [declared] : Array.isArray(declared) ? declared.map(String) : flags.filter(([key]) => config[key] === true).map(([, name]) => name);
  const mode = names.length === 1 ? byName[(names[0] as string).toLowerCase()] : undefined;
  if (!mode) {
    throw invalid(modelDir, `its pooling config asks for ${names.length === 0 ? 'no pooling' : names.join(' + ')}; Specialize supports exactly one of cls, mean, max, mean_sqrt_len_tokens, lasttoken`);
  }
  return mode;
}

function readJson(dir: string, name: string): Record<string, unknown> | undefined {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw invalid(dir, `${name} is not valid JSON (${(error as Error).message})`);
  }
}

function invalid(dir: string, why: string): SpecializeError {
  return new SpecializeError(`Model folder ${dir} is not usable: ${why}.`, 'Point --model at a sentence-transformers folder (config.json, tokenizer.json, modules.json, weights) or a Hugging Face model id.', 'model-invalid');
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}
