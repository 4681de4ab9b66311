import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { CancelledError, SpecializeError, throwIfAborted } from '../errors';
import type { ProgressListener } from '../progress';
import { ensureDir } from '../util/ensureDir';

/**
 * Downloads a model from the Hugging Face Hub (or a mirror named by HF_ENDPOINT) with progress and
 * checksum verification: LFS files against their sha256, small files against their git blob sha1.
 */
export interface HubFile {
  path: string;
  size: number;
  /** sha256 of the content, for LFS files. */
  sha256?: string;
  /** git blob sha1, for files stored in git directly. */
  gitSha1?: string;
}

export interface HubOptions {
  endpoint?: string;
  token?: string;
  revision?: string;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

interface TreeEntry {
  type: string;
  path: string;
  size: number;
  oid: string;
  lfs?: { oid: string; size: number };
}

const CONFIG_FILES = /^(config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|modules\.json|sentence_bert_config\.json|config_sentence_transformers\.json|vocab\.txt|[^/]+\/config\.json)$/;
/** Weights in order of preference: PyTorch weights are needed for training; ONNX only for inference. */
const WEIGHT_CHOICES = [['model.safetensors'], ['pytorch_model.bin'], ['onnx/model.onnx', 'onnx/model.onnx_data']];

export function hubEndpoint(options: HubOptions = {}): string {
  return (options.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
}

/** Lists the files Specialize needs from a model repository: configs, tokenizer, one set of weights. */
export async function listModelFiles(id: string, options: HubOptions = {}): Promise<HubFile[]> {
  const revision = options.revision ?? 'main';
  const url = `${hubEndpoint(options)}/api/models/${id}/tree/${encodeURIComponent(revision)}?recursive=true`;
  const entries = (await fetchJson(url, id, options)) as TreeEntry[];
  const files = new Map(entries.filter((entry) => entry.type === 'file').map((entry) => [entry.path, entry]));
  const weights = WEIGHT_CHOICES.find((choice) => files.has(choice[0] as string));
  if (!weights) {
    throw new SpecializeError(`Model ${id} on the hub has no model.safetensors, pytorch_model.bin or onnx/model.onnx.`, 'Choose a model repository that ships weights in one of those formats.', 'model-invalid');
  }
  if (!files.has('tokenizer.json')) {
    throw new SpecializeError(`Model ${id} on the hub has no tokenizer.json (a fast tokenizer).`, 'Choose a model with a fast tokenizer, or save one locally and pass the folder.', 'model-invalid');
  }
  const wanted = [...files.keys()].filter((file) => CONFIG_FILES.test(file) || weights.includes(file));
  return wanted.map((file) => {
    const entry = files.get(file) as TreeEntry;
    return entry.lfs ? { path: file, size: entry.lfs.size, sha256: entry.lfs.oid } : { path: file, size: entry.size, gitSha1: entry.oid };
  });
}

/** Downloads `files` into `targetDir`, verifying each; a file already present and verified is kept. */
export async function downloadModelFiles(id: string, files: readonly HubFile[], targetDir: string, options: HubOptions = {}): Promise<void> {
  const revision = options.revision ?? 'main';
  const total = files.reduce((sum, file) => sum + file.size, 0);
  let done = 0;
  const report = (message?: string) => options.onProgress?.({ stage: `download ${id}`, done, total, unit: 'bytes', ...(message ? { message } : {}) });
  for (const file of files) {
    throwIfAborted(options.signal, 'download');
    const target = path.join(targetDir, file.path);
    await ensureDir(path.dirname(target));
    const url = `${hubEndpoint(options)}/${id}/resolve/${encodeURIComponent(revision)}/${file.path}`;
    const response = await request(url, id, options);
    if (!response.body) throw new SpecializeError(`The hub sent no content for ${id}/${file.path}.`, 'Try again later.', 'network');
    const sha256 = createHash('sha256');
    const sha1 = createHash('sha1').update(`blob ${file.size}\0`);
    const partial = `${target}.part`;
    const sink = fs.createWriteStream(partial);
    try {
      for await (const chunk of Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>)) {
        throwIfAborted(options.signal, 'download');
        const bytes = chunk as Buffer;
        sha256.update(bytes);
        sha1.update(bytes);
        if (!sink.write(bytes)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
        done += bytes.length;
        report(file.path);
      }
    } finally {
      await new Promise<void>((resolve, reject) => sink.end((error?: Error | null) => (error ? reject(error) : resolve())));
    }
    const gotSha256 = sha256.digest('hex');
    const gotSha1 = sha1.digest('hex');
    if ((file.sha256 && gotSha256 !== file.sha256) || (file.gitSha1 && gotSha1 !== file.gitSha1)) {
      await fs.promises.rm(partial, { force: true });
      throw new SpecializeError(
        `Checksum mismatch for ${id}/${file.path}: expected ${file.sha256 ?? file.gitSha1}, got ${file.sha256 ? gotSha256 : gotSha1}.`,
        'The download was corrupted or changed in transit; run the command again. If it persists, check any proxy or HF_ENDPOINT mirror.',
        'network',
      );
    }
    await fs.promises.rename(partial, target);
  }
  report();
}

async function fetchJson(url: string, id: string, options: HubOptions): Promise<unknown> {
  const response = await request(url, id, options);
  return response.json();
}

async function request(url: string, id: string, options: HubOptions): Promise<Response> {
  const token = options.token ?? process.env.HF_TOKEN;
  let response: Response;
  try {
    response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    if (options.signal?.aborted) throw new CancelledError('download');
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new SpecializeError(
      `Cannot reach ${hubEndpoint(options)} to download model ${id} (${cause?.code ?? cause?.message ?? (error as Error).message}).`,
      'Check the network or proxy, set HF_ENDPOINT to a reachable mirror, or pass --model a local model folder.',
      'network',
    );
  }
  if (response.status === 401 || response.status === 403) {
    throw new SpecializeError(`The hub refused access to model ${id} (HTTP ${response.status}).`, 'For a gated or private model, accept its terms on the hub and set HF_TOKEN.', 'network');
  }
  if (response.status === 404) {
    throw new SpecializeError(`Model ${id} was not found on ${hubEndpoint(options)}.`, 'Check the model id (e.g. BAAI/bge-small-en-v1.5) or pass a local folder.', 'not-found');
  }
  if (!response.ok) {
    throw new SpecializeError(`The hub answered HTTP ${response.status} for model ${id}.`, 'Try again later, or pass --model a local model folder.', 'network');
  }
  return response;
}
