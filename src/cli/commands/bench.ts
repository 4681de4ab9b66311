import type { Command } from 'commander';
import { DEFAULT_MODEL_ID } from '../../core/models/packaged';
import { DEFAULT_SYNTH_TYPES } from '../../core/synth/defaults';
import { createLlmClient, LLM_API_KEY_ENV } from '../../core/synth/llm/createClient';
import { CANDIDATE_SOURCES, type CandidateSource } from '../../core/synth/candidates';
import { budgetWith } from '../../core/tune/budget';
import { DEFAULT_TEACHER_TEXT, parseTeacher } from '../../core/tune/teacherSpec';
import { runPaperBench, type PaperBenchReport } from '../../core/tune/paperBench';
import { oneOf, positiveInt, printJson, runCommand } from '../run';

interface BenchFlags {
  dataset: string;
  budget: string;
  work?: string;
  fresh?: boolean;
  llm: string;
  llmModel?: string;
  teacher: string;
  teacherKind: 'cross-encoder' | 'bi-encoder';
  candidates: CandidateSource;
  student: string;
  types: string;
  maxPassages?: number;
  holdOut?: number;
  epochs?: number;
  device: 'auto' | 'cpu' | 'cuda';
  threads?: number;
  json?: boolean;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description("The paper's protocol on a collection with human judgements: tune on synthetic queries only, then score BM25, base, teacher, listwise, InfoNCE and the promoted model on the human queries")
    .requiredOption('--dataset <dir>', 'a collection in BEIR layout (corpus.jsonl, queries.jsonl, qrels/test.tsv)')
    .option('--budget <name>', 'small or full', 'small')
    .option('--work <dir>', 'where the store and the run live (default: SPECIALIZE_HOME/bench/<dataset>-<budget>-<settings>; a rerun resumes)')
    .option('--fresh', 'start over in the work folder')
    .option('--llm <url|local>', `"local" (the embedded model) or an OpenAI-compatible base URL; the key comes from $${LLM_API_KEY_ENV}`, 'local')
    .option('--llm-model <name|file.gguf>', 'endpoint model name, or a GGUF file for --llm local')
    .option('--teacher <list>', `teacher: models (ids or folders) and bm25, comma-separated; several are averaged (default ${DEFAULT_TEACHER_TEXT}). A cross-encoder reranker, where you have one, is better`, DEFAULT_TEACHER_TEXT)
    .option('--candidates <source>', "training candidates: the student's top 20 (student) or that fused with BM25's by RRF (student+bm25)", oneOf('--candidates', CANDIDATE_SOURCES), 'student')
    .option('--teacher-kind <kind>', 'how the teacher models score: bi-encoder or cross-encoder', oneOf('--teacher-kind', ['cross-encoder', 'bi-encoder'] as const), 'bi-encoder')
    .option('--student <id|dir>', 'the retriever to tune', DEFAULT_MODEL_ID)
    .option('--types <list>', 'query types', DEFAULT_SYNTH_TYPES.join(','))
    .option('--max-passages <n>', 'passages to write queries for (overrides the budget)', positiveInt('--max-passages'))
    .option('--hold-out <n>', 'passages held out for the synthetic evaluation (overrides the budget)', positiveInt('--hold-out'))
    .option('--epochs <n>', 'most training epochs (overrides the budget)', positiveInt('--epochs', 1000))
    .option('--device <d>', 'auto, cpu or cuda for the trainer', oneOf('--device', ['auto', 'cpu', 'cuda'] as const), 'auto')
    .option('--threads <n>', 'onnxruntime threads', positiveInt('--threads', 256))
    .option('--json', 'print one JSON object')
    .action(async (flags: BenchFlags) => {
      await runCommand({}, async ({ signal, progress }) => {
        const budget = budgetWith(flags.budget, flags);
        const client = await createLlmClient({ llm: flags.llm, ...(flags.llmModel ? { model: flags.llmModel } : {}), apiKey: process.env[LLM_API_KEY_ENV], signal, onProgress: progress });
        try {
          const report = await runPaperBench({
            dataset: flags.dataset,
            budget,
            client,
            types: flags.types.split(',').map((type) => type.trim()).filter(Boolean),
            student: flags.student,
            teacher: parseTeacher(flags.teacher, flags.teacherKind),
            candidateSource: flags.candidates,
            ...(flags.work ? { workDir: flags.work } : {}),
            fresh: flags.fresh === true,
            device: flags.device,
            ...(flags.threads ? { threads: flags.threads } : {}),
            signal,
            onProgress: progress,
            onStage: (stage, skipped) => process.stderr.write(skipped ? `stage ${stage}: done in an earlier run, skipped\n` : `stage ${stage}\n`),
          });
          if (flags.json) {
            const { tune: _tune, ...summary } = report;
            printJson(summary);
          } else process.stdout.write(formatBench(report));
        } finally {
          await client.close();
        }
      });
    });
}

function formatBench(report: PaperBenchReport): string {
  const lines = [
    `${report.dataset}: ${report.human_queries} human queries; student ${report.student}, teacher ${report.teacher}, LLM ${report.llm}, budget ${report.budget}`,
    `${report.queries_generated} synthetic queries written, ${report.queries_kept} kept; ${report.seconds.toFixed(0)} s`,
    '',
    '| system | nDCG@10 | Recall@100 | MRR@10 |',
    '|---|---|---|---|',
    ...report.rows.map((row) => `| ${row.system} | ${row['ndcg@10'].toFixed(4)} | ${row['recall@100'].toFixed(4)} | ${row['mrr@10'].toFixed(4)} |`),
    '',
    `distillation efficiency (listwise − base) / (teacher − base): ${report.distillation_efficiency === null ? 'n/a (the teacher is not better than the base)' : report.distillation_efficiency.toFixed(2)}`,
    report.outcome,
    '',
  ];
  return lines.join('\n');
}
