import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecializeError } from '../../../src/core/errors';
import { LocalLlmClient } from '../../../src/core/synth/llm/localClient';
import { checkGgufFile, resolveLocalModelFile } from '../../../src/core/synth/llm/localModelFile';
import { sha256Hex } from '../../../src/core/util/hash';
import { tempDir } from '../../helpers/env';

async function rejection(promise: Promise<unknown>): Promise<SpecializeError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(SpecializeError);
  return error as SpecializeError;
}

describe('local model files the user names', () => {
  const dir = tempDir('specialize-gguf-');

  it('names a missing file and says what to pass instead', async () => {
    const missing = path.join(dir, 'nope.gguf');
    const error = await rejection(checkGgufFile(missing));
    expect(error.code).toBe('not-found');
    expect(error.message).toContain(missing);
    expect(error.fix).toMatch(/GGUF/);
  });

  it('refuses a folder', async () => {
    const error = await rejection(checkGgufFile(dir));
    expect(error.code).toBe('model-invalid');
    expect(error.message).toMatch(/folder/);
  });

  it('refuses a file that is not GGUF, by its first bytes rather than its name', async () => {
    const fake = path.join(dir, 'model.gguf');
    fs.writeFileSync(fake, '{"__metadata__":{}}safetensors…');
    const error = await rejection(checkGgufFile(fake));
    expect(error.code).toBe('model-invalid');
    expect(error.message).toContain('not a GGUF file');
    expect(error.message).toContain('{"__');
  });

  it('refuses an empty file', async () => {
    const empty = path.join(dir, 'empty.gguf');
    fs.writeFileSync(empty, '');
    const error = await rejection(checkGgufFile(empty));
    expect(error.message).toMatch(/empty/);
  });

  it('accepts any file with the GGUF magic and identifies it by content', async () => {
    const content = Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0])]);
    const file = path.join(dir, 'tiny.bin');
    fs.writeFileSync(file, content);
    expect(await checkGgufFile(path.relative(process.cwd(), file))).toBe(file);
    const resolved = await resolveLocalModelFile(file, { home: path.join(dir, 'home') });
    expect(resolved).toEqual({ path: file, sha256: sha256Hex(content), source: `file ${file}` });
  });

  it('fails the client with the same error before loading llama.cpp', async () => {
    const fake = path.join(dir, 'weights.gguf');
    fs.writeFileSync(fake, 'PK\u0003\u0004 a zip, not a model');
    const error = await rejection(LocalLlmClient.create({ modelPath: fake }));
    expect(error.message).toContain('not a GGUF file');
    const badConcurrency = await rejection(LocalLlmClient.create({ modelPath: fake, concurrency: 0 }));
    expect(badConcurrency.message).toMatch(/concurrency must be a whole number/);
  });
});
