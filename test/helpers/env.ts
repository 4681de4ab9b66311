import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const cacheDir = path.join(repoRoot, 'test', '.cache');
export const python = path.join(repoRoot, '.venv', 'bin', 'python');
export const cliPath = path.join(repoRoot, 'dist', 'cli.js');
/**
 * Real collections shared by the project's machines: SPECIALIZE_DATASETS, else `../shared/datasets`
 * beside the checkout, else the project's usual location (a clone may live anywhere).
 */
export const sharedDatasets =
  [process.env.SPECIALIZE_DATASETS, path.resolve(repoRoot, '..', 'shared', 'datasets'), '/work/shared/datasets'].find(
    (dir): dir is string => dir !== undefined && fs.existsSync(path.join(dir, 'med')),
  ) ?? path.resolve(repoRoot, '..', 'shared', 'datasets');

const createdTempDirs: string[] = [];

/**
 * A fresh temporary folder under the run's root (TMPDIR, see globalSetup). It is removed after its test
 * file (`removeTempDirs`, a setup file's afterAll), so the disk holds one file's folders at a time.
 */
export function tempDir(prefix = 'specialize-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  createdTempDirs.push(dir);
  return dir;
}

/** Removes the folders `tempDir` made in this test file. */
export function removeTempDirs(): void {
  for (const dir of createdTempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Runs a trainer module in the project's Python environment and returns stdout. */
export function runPython(module: string, args: string[], input?: string): string {
  return execFileSync(python, ['-m', module, ...args], {
    cwd: repoRoot,
    input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, PYTHONPATH: path.join(repoRoot, 'trainer'), HF_HUB_OFFLINE: '1', TQDM_DISABLE: '1', TRANSFORMERS_VERBOSITY: 'error', ORT_DISABLE_TELEMETRY: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Embeddings from sentence-transformers itself, the reference for parity tests. */
export function referenceEmbeddings(modelDir: string, texts: string[], kind: 'query' | 'passage'): number[][] {
  const output = runPython('specialize_trainer.embed_reference', ['--model', modelDir], JSON.stringify({ texts, kind }));
  return (JSON.parse(output) as { embeddings: number[][] }).embeddings;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

/** Token ids from the Hugging Face (Rust) tokenizer with truncation, the reference for our tokenizer. */
export function referenceTokenIds(modelDir: string, texts: string[], maxLength: number): number[][] {
  const code = [
    'import json, sys',
    'from transformers import AutoTokenizer',
    'args = json.load(sys.stdin)',
    'tok = AutoTokenizer.from_pretrained(args["dir"])',
    'print(json.dumps(tok(args["texts"], truncation=True, max_length=args["max"])["input_ids"]))',
  ].join('\n');
  const output = execFileSync(python, ['-c', code], {
    input: JSON.stringify({ dir: modelDir, texts, max: maxLength }),
    encoding: 'utf8',
    env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_VERBOSITY: 'error' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return JSON.parse(output) as number[][];
}

/** Varied texts for parity checks: prose, code, errors, unicode, tiny, and longer than any limit. */
export const PARITY_TEXTS = [
  'How do I rotate an API key without downtime?',
  'def resolve(spec: str) -> Model:\n    return cache.get(spec) or download(spec)',
  "TypeError: Cannot read properties of undefined (reading 'map')",
  'Café naïve résumé — Übergrößenträger, 東京の天気',
  'x',
  '',
  'SELECT id FROM passages WHERE hash <> ? ORDER BY id LIMIT 20;',
  'The boundary layer separates at high angles of attack and lift drops sharply.',
  Array.from({ length: 300 }, (_, i) => `word${i % 17} alpha beta`).join(' '),
  'retry '.repeat(700),
];
