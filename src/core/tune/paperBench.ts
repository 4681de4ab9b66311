import * as fs from 'node:fs';
import * as path from 'node:path';
import { Embedder } from '../embed/embedder';
import { loadBeirDataset } from '../eval/beir';
import { meanMetrics, scoreQuery, type MetricSummary } from '../eval/metrics';
import { DEFAULT_MODEL_ID } from '../models/packaged';
import { resolveModel } from '../models/resolver';
import { Store, type PassageInput } from '../store/store';
import { TeacherScoreRequest } from '../trainer/protocol';
import { TrainerClient } from '../trainer/trainerClient';
import { sha256Hex } from '../util/hash';
import { specializeHome } from '../util/paths';
import { EVAL_DEPTH, rankAll, teacherOrder } from './heldOutEval';
import { readJsonLines } from './jsonl';
import { writeTeacherInput } from './teacherFiles';
import { DEFAULT_TEACHER, describeTeacher, formatTeacherList, hasLexicalMember, resolveTeacherFolders, scorerSpec, type TeacherMember } from './teacherSpec';
import { runTune, withEmbedder, type TuneOptions, type TuneReport } from './runTune';
import type { TeacherScoreLine } from './trainingData';

export interface PaperBenchOptions extends Pick<TuneOptions, 'budget' | 'client' | 'types' | 'student' | 'teacher' | 'candidateSource' | 'fresh' | 'device' | 'threads' | 'trainer' | 'signal' | 'onProgress'> {
  dataset: string;
  /** Where the collection's store and run live; default a folder under SPECIALIZE_HOME/bench keyed by the settings. */
  workDir?: string;
  onStage?: (stage: string, skipped: boolean) => void;
}

export type SystemName = 'bm25' | 'base' | 'teacher' | 'listwise' | 'infonce' | 'promoted';

export interface PaperBenchRow extends MetricSummary {
  system: SystemName;
}

export interface PaperBenchReport {
  dataset: string;
  student: string;
  teacher: string;
  llm: string;
  budget: string;
  queries_generated: number;
  queries_kept: number;
  /** Human queries evaluated (never seen while tuning). */
  human_queries: number;
  seconds: number;
  rows: PaperBenchRow[];
  /** (listwise − base) / (teacher − base) in nDCG@10; null when the teacher is not better than the base. */
  distillation_efficiency: number | null;
  promoted: boolean;
  outcome: string;
  tune: TuneReport;
}

/**
 * The paper's protocol on a collection with human judgements: index the corpus, tune on synthetic
 * queries only (the human queries are never seen), then score every system on the human queries —
 * BM25, the base student, the teacher reranking the base's top 100, the listwise-distilled student,
 * the InfoNCE-only baseline trained on the same data, and whatever the promotion gate chose.
 */
export async function runPaperBench(options: PaperBenchOptions): Promise<PaperBenchReport> {
  const started = performance.now();
  const dataset = await loadBeirDataset(options.dataset, 'test');
  const studentId = options.student ?? DEFAULT_MODEL_ID;
  const teacher = options.teacher ?? DEFAULT_TEACHER;
  const workDir = options.workDir ?? defaultWorkDir(dataset.name, dataset.dir, options, studentId, formatTeacherList(teacher));
  if (options.fresh) await fs.promises.rm(workDir, { recursive: true, force: true });
  const storeDir = path.join(workDir, 'store');
  const common = { ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) };

  // The corpus as passages, embedded with the student: the base model version.
  const store = await Store.open(storeDir, { create: true });
  try {
    // A document is plain text: `.txt` puts every document in one sampling stratum (a bare id would be
    // read as a file name without extension, its own "file type", and nothing could be held out).
    const passages: PassageInput[] = dataset.corpus.map((doc) => ({ id: doc.id, root: dataset.name, path: `${doc.id}.txt`, title: doc.title, text: doc.text }));
    await store.syncPassages(passages, common);
    const model = await resolveModel(studentId, common);
    const embedder = await Embedder.create({ model, precision: 'fp32', ...(options.threads ? { threads: options.threads } : {}) });
    try {
      const vectors = await store.syncVectors(embedder, studentId, common);
      if (!store.activeModel) await store.setActiveModel(vectors.version);
    } finally {
      await embedder.close();
    }
  } finally {
    store.close();
  }

  // Tune on synthetic queries only (force: the bench always trains, and reports the teacher row).
  const tune = await runTune({
    folders: [],
    storeDir,
    runDir: path.join(workDir, 'run'),
    student: studentId,
    teacher,
    client: options.client,
    budget: options.budget,
    types: options.types,
    force: true,
    compareInfonce: true,
    ...(options.candidateSource ? { candidateSource: options.candidateSource } : {}),
    ...(options.device ? { device: options.device } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
    ...(options.trainer ? { trainer: options.trainer } : {}),
    ...common,
    ...(options.onStage ? { onStage: options.onStage } : {}),
  });
  if (!tune.tunedVersion || !tune.infonceVersion) throw new Error(`the tuning run stopped at ${tune.stoppedAt ?? 'an unknown stage'}: ${tune.outcome}`);

  // Every system on the human queries.
  const queries = dataset.queries;
  const judged = (rankings: readonly (readonly string[])[]) => meanMetrics(queries.map((query, index) => scoreQuery(query.id, rankings[index] ?? [], dataset.qrels.get(query.id) ?? new Map())));
  const texts = queries.map((query) => query.text);
  const dense = (version: string) => withEmbedder(version, { storeDir, ...(options.threads ? { threads: options.threads } : {}), ...(options.signal ? { signal: options.signal } : {}) }, (embedder, opened) => rankAll(opened, embedder, texts, EVAL_DEPTH, options.signal ? { signal: options.signal } : {}));
  const baseRankings = await dense(tune.baseVersion);
  const bm25Rankings = await bm25(storeDir, texts);
  const teacherRankings = await teacherRerank(path.join(workDir, 'run', 'human-teacher'), storeDir, queries, baseRankings, teacher, options);
  const listwiseRankings = await dense(tune.tunedVersion);
  const infonceRankings = await dense(tune.infonceVersion);
  const rows: PaperBenchRow[] = [
    { system: 'bm25', ...judged(bm25Rankings) },
    { system: 'base', ...judged(baseRankings) },
    { system: 'teacher', ...judged(teacherRankings) },
    { system: 'listwise', ...judged(listwiseRankings) },
    { system: 'infonce', ...judged(infonceRankings) },
    { system: 'promoted', ...judged(tune.promoted ? listwiseRankings : baseRankings) },
  ];
  const ndcg = (system: SystemName) => (rows.find((row) => row.system === system) as PaperBenchRow)['ndcg@10'];
  const teacherGain = ndcg('teacher') - ndcg('base');
  return {
    dataset: dataset.name,
    student: studentId,
    teacher: describeTeacher(teacher),
    llm: options.client.description,
    budget: options.budget.name,
    queries_generated: tune.queries?.generated ?? 0,
    queries_kept: tune.queries?.kept ?? 0,
    human_queries: queries.length,
    seconds: (performance.now() - started) / 1000,
    rows,
    distillation_efficiency: teacherGain > 0 ? (ndcg('listwise') - ndcg('base')) / teacherGain : null,
    promoted: tune.promoted,
    outcome: tune.outcome,
    tune,
  };
}

async function bm25(storeDir: string, texts: readonly string[]): Promise<string[][]> {
  const store = await Store.open(storeDir);
  try {
    const rankings: string[][] = [];
    for (const text of texts) rankings.push((await store.searchBm25(text, EVAL_DEPTH)).map((hit) => hit.id));
    return rankings;
  } finally {
    store.close();
  }
}

/** The teacher reranking the base's top 100 of each human query (scored once, then kept in the run folder). */
async function teacherRerank(dir: string, storeDir: string, queries: readonly { id: string; text: string }[], baseRankings: readonly string[][], teacher: readonly TeacherMember[], options: PaperBenchOptions): Promise<string[][]> {
  const output = path.join(dir, 'teacher_scores.jsonl');
  if (!fs.existsSync(output)) {
    await fs.promises.mkdir(dir, { recursive: true });
    await writeTeacherInput(
      dir,
      storeDir,
      queries.map((query, index) => ({ qid: query.id, query: query.text, type: 'human', candidates: baseRankings[index] ?? [] })),
      { lexical: hasLexicalMember(teacher) },
    );
    const folders = await resolveTeacherFolders(teacher, options.signal ? { signal: options.signal } : {});
    const client = await TrainerClient.start({ ...options.trainer, onProgress: (event) => options.onProgress?.({ stage: 'teacher scores (human queries)', done: event.step, total: event.total, unit: 'pairs' }) });
    try {
      await client.request(TeacherScoreRequest, { run_dir: dir, scorer: scorerSpec(teacher, folders), device: options.device ?? 'auto' }, options.signal);
    } finally {
      await client.shutdown();
    }
  }
  const scores = new Map(readJsonLines<TeacherScoreLine>(output).map((line) => [line.qid, line]));
  return queries.map((query, index) => {
    const line = scores.get(query.id);
    return line ? teacherOrder(line.candidates, line.raw) : (baseRankings[index] ?? []);
  });
}

function defaultWorkDir(name: string, datasetDir: string, options: PaperBenchOptions, student: string, teacher: string): string {
  const corpus = path.join(datasetDir, 'corpus.jsonl');
  const stat = fs.statSync(corpus);
  const key = sha256Hex([corpus, stat.size, stat.mtimeMs, student, teacher, options.client.modelId, JSON.stringify(options.budget), options.types.join(','), ...(options.candidateSource && options.candidateSource !== 'student' ? [options.candidateSource] : [])].join('\n')).slice(0, 12);
  return path.join(specializeHome(), 'bench', `${name}-${options.budget.name}-${key}`);
}
