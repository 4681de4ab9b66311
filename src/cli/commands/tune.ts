import type { Command } from 'commander';
import { SpecializeError } from '../../core/errors';
import { DEFAULT_MODEL_ID } from '../../core/models/packaged';
import { DEFAULT_SYNTH_TYPES } from '../../core/synth/defaults';
import { createLlmClient, LLM_API_KEY_ENV } from '../../core/synth/llm/createClient';
import { QUERY_TYPE_IDS } from '../../core/synth/queryTypes';
import { CANDIDATE_SOURCES, type CandidateSource } from '../../core/synth/candidates';
import { budgetWith } from '../../core/tune/budget';
import { DEFAULT_TEACHER_TEXT, parseTeacher } from '../../core/tune/teacherSpec';
import { formatTuneReport } from '../../core/tune/formatReport';
import { runTune } from '../../core/tune/runTune';
import { oneOf, positiveInt, printJson, runCommand } from '../run';

interface TuneFlags {
  store: string;
  run?: string;
  fresh?: boolean;
  llm: string;
  llmModel?: string;
  teacher: string;
  teacherKind: 'cross-encoder' | 'bi-encoder';
  candidates: CandidateSource;
  student: string;
  budget: string;
  types: string;
  mode: 'combined' | 'infonce';
  force?: boolean;
  device: 'auto' | 'cpu' | 'cuda';
  trainerPrefix?: string;
  threads?: number;
  maxPassages?: number;
  holdOut?: number;
  epochs?: number;
  json?: boolean;
}

export function registerTune(program: Command): void {
  program
    .command('tune')
    .description('Specialize the retriever on folders: index, write queries, score with the teacher, train, evaluate, and promote only a measured gain (resumable)')
    .argument('<folders...>', 'folders to tune on')
    .requiredOption('--store <dir>', 'index folder (created if missing); the run goes to <store>/tune unless --run')
    .option('--run <dir>', 'run folder (rerun the same command to resume)')
    .option('--fresh', 'set an existing run folder aside and start over')
    .option('--llm <url|local>', `"local" (the embedded model) or an OpenAI-compatible base URL; the key comes from $${LLM_API_KEY_ENV}`, 'local')
    .option('--llm-model <name|file.gguf>', 'endpoint model name (required with a URL), or a GGUF file for --llm local')
    .option('--teacher <list>', `teacher: models (ids or folders) and bm25, comma-separated; several are averaged (default ${DEFAULT_TEACHER_TEXT}). A cross-encoder reranker, where you have one, is better`, DEFAULT_TEACHER_TEXT)
    .option('--candidates <source>', "training candidates: the student's top 20 (student) or that fused with BM25's by RRF (student+bm25)", oneOf('--candidates', CANDIDATE_SOURCES), 'student')
    .option('--teacher-kind <kind>', 'how the teacher models score: bi-encoder or cross-encoder', oneOf('--teacher-kind', ['cross-encoder', 'bi-encoder'] as const), 'bi-encoder')
    .option('--student <id|dir>', 'the retriever to tune', DEFAULT_MODEL_ID)
    .option('--budget <name>', 'small (minutes on a laptop) or full (the method: up to 100k passages)', 'small')
    .option('--max-passages <n>', 'passages to write queries for (overrides the budget)', positiveInt('--max-passages'))
    .option('--hold-out <n>', 'passages held out for evaluation (overrides the budget)', positiveInt('--hold-out'))
    .option('--epochs <n>', 'most training epochs (overrides the budget)', positiveInt('--epochs', 1000))
    .option('--types <list>', `query types: ${QUERY_TYPE_IDS.join(', ')}`, DEFAULT_SYNTH_TYPES.join(','))
    .option('--mode <mode>', 'combined (listwise distillation + InfoNCE, the method) or infonce (the baseline)', oneOf('--mode', ['combined', 'infonce'] as const), 'combined')
    .option('--force', 'train even when the teacher is not better than the student')
    .option('--device <d>', 'auto, cpu or cuda for the trainer', oneOf('--device', ['auto', 'cpu', 'cuda'] as const), 'auto')
    .option('--trainer-prefix <command>', 'start the trainer through this command, e.g. "torchrun --nproc_per_node 2 --no-python" or "ssh gpu-host"')
    .option('--threads <n>', 'onnxruntime threads', positiveInt('--threads', 256))
    .option('--json', 'print the run report as JSON')
    .action(async (folders: string[], flags: TuneFlags) => {
      await runCommand({}, async ({ signal, progress }) => {
        const budget = budgetWith(flags.budget, flags);
        const types = flags.types
          .split(',')
          .map((type) => type.trim())
          .filter(Boolean);
        if (types.length === 0) throw new SpecializeError('--types is empty.', `List at least one of: ${QUERY_TYPE_IDS.join(', ')}.`);
        const client = await createLlmClient({ llm: flags.llm, ...(flags.llmModel ? { model: flags.llmModel } : {}), apiKey: process.env[LLM_API_KEY_ENV], signal, onProgress: progress });
        try {
          const report = await runTune({
            folders,
            storeDir: flags.store,
            ...(flags.run ? { runDir: flags.run } : {}),
            fresh: flags.fresh === true,
            student: flags.student,
            teacher: parseTeacher(flags.teacher, flags.teacherKind),
            candidateSource: flags.candidates,
            client,
            budget,
            types,
            mode: flags.mode,
            force: flags.force === true,
            device: flags.device,
            ...(flags.threads ? { threads: flags.threads } : {}),
            ...(flags.trainerPrefix ? { trainer: { commandPrefix: flags.trainerPrefix.split(/\s+/).filter(Boolean) } } : {}),
            signal,
            onProgress: progress,
            onStage: (stage, skipped) => process.stderr.write(skipped ? `stage ${stage}: done in an earlier run, skipped\n` : `stage ${stage}\n`),
          });
          if (flags.json) printJson(report);
          else process.stdout.write(formatTuneReport(report));
        } finally {
          await client.close();
        }
      });
    });
}
