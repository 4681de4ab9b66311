import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpecializeError } from '../errors';
import type { ProgressListener } from '../progress';
import { runPythonModule, stderrTail } from '../python/pythonEnv';

export interface ExportReport {
  exporter: string;
  fp32: { file: string; fused: boolean; min_cosine: number; mean_cosine: number };
  int8?: { file: string; min_cosine: number; mean_cosine: number };
}

/**
 * Exports a PyTorch sentence-transformers model to ONNX in the Python environment, into `outDir`.
 * Writes into a sibling temp folder and renames it into place, so an interrupted export never
 * leaves a half-written model behind.
 */
export async function exportOnnx(modelDir: string, outDir: string, options: { int8: boolean; signal?: AbortSignal; onProgress?: ProgressListener }): Promise<ExportReport> {
  const temp = `${outDir}.partial-${process.pid}`;
  await fs.promises.rm(temp, { recursive: true, force: true });
  options.onProgress?.({ stage: 'export ONNX', done: 0, total: 0, unit: 'steps', message: path.basename(modelDir) });
  const args = ['--model', modelDir, '--out', temp, ...(options.int8 ? ['--int8'] : [])];
  const result = await runPythonModule('specialize_trainer.onnx_export', args, options.signal ? { signal: options.signal } : {});
  const lastLine = result.stdout.trim().split('\n').pop() ?? '';
  let parsed: ({ ok: boolean; error?: string } & Partial<ExportReport>) | undefined;
  try {
    parsed = JSON.parse(lastLine) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  if (result.code !== 0 || !parsed?.ok) {
    await fs.promises.rm(temp, { recursive: true, force: true });
    throw new SpecializeError(
      `Exporting ${modelDir} to ONNX failed: ${parsed?.error ?? (stderrTail(result.stderr) || `exit code ${result.code}`)}.`,
      'Check that the folder is a sentence-transformers model that loads in Python (SentenceTransformer(path)); run `npm run setup` if the Python environment is incomplete.',
      'model-invalid',
    );
  }
  await fs.promises.rm(outDir, { recursive: true, force: true });
  await fs.promises.rename(temp, outDir);
  options.onProgress?.({ stage: 'export ONNX', done: 1, total: 1, unit: 'steps' });
  return parsed as unknown as ExportReport;
}
