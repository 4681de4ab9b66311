import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveModel } from '../../src/core/models/resolver';
import type { ResolvedModel } from '../../src/core/models/resolvedModel';
import { DEFAULT_MODEL_ID } from '../../src/core/models/packaged';
import { cacheDir, runPython } from './env';

export interface TinyModelSpec {
  pooling?: 'cls' | 'mean' | 'max' | 'lasttoken';
  queryPrompt?: string;
  seed?: number;
}

/** Model cache of the tests, so exports of tiny models never touch the user's cache. */
export const testHome = path.join(cacheDir, 'home');

/**
 * A tiny random BERT in sentence-transformers layout (real tokenizer, real architecture), built
 * once per spec by the trainer package and kept in test/.cache.
 */
export function tinyModelDir(spec: TinyModelSpec = {}): string {
  const pooling = spec.pooling ?? 'mean';
  const prompt = spec.queryPrompt ?? '';
  const seed = spec.seed ?? 0;
  const dir = path.join(cacheDir, `tiny-${pooling}-${seed}${prompt ? '-prompt' : ''}`);
  if (!fs.existsSync(path.join(dir, 'modules.json'))) {
    const partial = `${dir}.partial`;
    fs.rmSync(partial, { recursive: true, force: true });
    runPython('specialize_trainer.tiny_model', ['--out', partial, '--pooling', pooling, '--query-prompt', prompt, '--seed', String(seed)]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(partial, dir);
  }
  return dir;
}

export async function tinyModel(spec: TinyModelSpec = {}, int8 = false): Promise<ResolvedModel> {
  return resolveModel(tinyModelDir(spec), { home: testHome, int8 });
}

/** The real default model, as `npm run setup` prepared it in the user's model cache. */
export async function defaultModel(int8 = false): Promise<ResolvedModel> {
  return resolveModel(DEFAULT_MODEL_ID, { int8 });
}
