import type { Command } from 'commander';
import type { Precision } from '../../core/embed/embedder';
import { runEval } from '../../core/eval/runEval';
import { DEFAULT_MODEL_ID } from '../../core/models/packaged';
import { SEARCH_MODES, type SearchMode } from '../../core/search/searcher';
import { oneOf, positiveInt, printJson, runCommand } from '../run';

interface EvalFlags {
  dataset: string;
  mode: SearchMode;
  model: string;
  precision: Precision;
  threads?: number;
  store?: string;
  split: string;
  json?: boolean;
  perQuery?: boolean;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('Index a BEIR-layout collection and score its human queries (nDCG@10, Recall@100, MRR@10)')
    .requiredOption('--dataset <dir>', 'collection folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv')
    .option('--mode <mode>', `retrieval mode: ${SEARCH_MODES.join(', ')}`, oneOf('--mode', SEARCH_MODES), 'dense')
    .option('--model <id|dir>', 'embedding model: Hugging Face id or local folder', DEFAULT_MODEL_ID)
    .option('--precision <p>', 'fp32 or int8 (dynamic quantization)', oneOf('--precision', ['fp32', 'int8'] as const), 'fp32')
    .option('--threads <n>', 'onnxruntime threads (default: all cores)', positiveInt('--threads', 256))
    .option('--store <dir>', 'where to keep the collection index (default: a cache folder)')
    .option('--split <name>', 'qrels split', 'test')
    .option('--per-query', 'include per-query metrics in --json output')
    .option('--json', 'print one JSON object')
    .action(async (flags: EvalFlags) => {
      await runCommand({}, async ({ signal, progress }) => {
        const report = await runEval({
          dataset: flags.dataset,
          mode: flags.mode,
          model: flags.model,
          precision: flags.precision,
          split: flags.split,
          signal,
          onProgress: progress,
          ...(flags.threads ? { threads: flags.threads } : {}),
          ...(flags.store ? { storeDir: flags.store } : {}),
        });
        const { perQuery, modelVersion, ...summary } = report;
        if (flags.json) {
          printJson({ ...summary, model_version: modelVersion, ...(flags.perQuery ? { per_query: perQuery } : {}) });
          return;
        }
        process.stdout.write(
          [
            `${report.dataset} · ${report.mode}${report.model ? ` · ${report.model} (${modelVersion})` : ''} · ${report.queries} queries · ${report.seconds.toFixed(1)} s`,
            `nDCG@10    ${report['ndcg@10'].toFixed(4)}`,
            `Recall@100 ${report['recall@100'].toFixed(4)}`,
            `MRR@10     ${report['mrr@10'].toFixed(4)}`,
            '',
          ].join('\n'),
        );
      });
    });
}
