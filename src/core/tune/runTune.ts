import * as fs from 'node:fs';
import * as path from 'node:path';
import { Embedder } from '../embed/embedder';
import { CancelledError, SpecializeError, throwIfAborted } from '../errors';
import { pairedBootstrap, type BootstrapInterval } from '../eval/bootstrap';
import type { MetricSummary, PerQueryMetrics } from '../eval/metrics';
import { indexFolders } from '../indexFolders';
import type { ScanOptions } from '../ingest/types';
import { DEFAULT_MODEL_ID } from '../models/packaged';
import { resolveModel } from '../models/resolver';
import type { ProgressListener } from '../progress';
import { Store } from '../store/store';
import type { LlmClient } from '../synth/llm/types';
import type { CandidateSource } from '../synth/candidates';
import { runSynth, SYNTH_FILES, type SynthSummary } from '../synth/runSynth';
import { ModelExportRequest, TeacherScoreRequest, TrainRunRequest, type ModelExportResult, type ProgressParams, type TeacherScoreResult, type TrainRunResult } from '../trainer/protocol';
import { TrainerClient, type TrainerStartOptions } from '../trainer/trainerClient';
import { batchSizeFor, learningRateFor, type Budget } from './budget';
import { EVAL_DEPTH, rankAll, scoreAgainstSources, summarise, teacherOrder, type HeldOutQuery } from './heldOutEval';
import { readJsonLines, writeJsonLines } from './jsonl';
import { keepModelInStore } from './keepModelInStore';
import { RunDirectory } from './runDirectory';
import { writeTeacherInput } from './teacherFiles';
import { decidePromotion } from './promotion';
import { currentJudgedQueries, judgedCount, readUserJudged, scoreAgainstJudgements, USER_JUDGED_FILE, type UserJudgedCheck, type UserJudgedComparison, type UserJudgedQuery, type UserJudgedSnapshot } from './userJudged';
import { DEFAULT_TEACHER, describeTeacher, hasLexicalMember, resolveTeacherFolders, scorerSpec, type TeacherMember } from './teacherSpec';
import { sourceFirst, splitTrainingData, type TeacherInputLine, type TeacherScoreLine, type TrainQuery } from './trainingData';

export interface TuneOptions {
  /** Folders to index; empty to tune on what the store already holds (a benchmark collection). */
  folders: readonly string[];
  /** Which files of the folders are indexed (include/exclude patterns, size limit, default ignores). */
  scan?: ScanOptions;
  storeDir: string;
  /** The run folder; default `<store>/tune`. */
  runDir?: string;
  /** Set an existing run folder aside and start over. */
  fresh?: boolean;
  student?: string;
  /** The teacher's members (models and BM25); default DEFAULT_TEACHER, an ensemble. */
  teacher?: readonly TeacherMember[];
  client: LlmClient;
  budget: Budget;
  types: readonly string[];
  mode?: 'combined' | 'infonce';
  /** The training queries' candidates: the student's top 20 (default) or that fused with BM25's (RRF). */
  candidateSource?: CandidateSource;
  /** Train even when the teacher is not better than the student on the held-out queries. */
  force?: boolean;
  /** Also train the InfoNCE-only baseline on the same data (a second model version, never promoted). */
  compareInfonce?: boolean;
  device?: 'auto' | 'cpu' | 'cuda';
  threads?: number;
  trainer?: TrainerStartOptions;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** A stage starts (`skipped`: it finished in an earlier run). */
  onStage?: (stage: TuneStage, skipped: boolean) => void;
}

export const TUNE_STAGES = ['index', 'queries', 'held-out', 'user-judged', 'teacher', 'teacher-check', 'training-data', 'train', 'export', 'embed', 'evaluate', 'promote'] as const;
/** The baseline's stages, run before `evaluate` when `compareInfonce` is set. */
export const INFONCE_STAGES = ['train-infonce', 'export-infonce', 'embed-infonce'] as const;
export type TuneStage = (typeof TUNE_STAGES)[number] | (typeof INFONCE_STAGES)[number];

export interface TeacherCheck {
  queries: number;
  student: MetricSummary;
  teacher: MetricSummary;
  /** The same on the queries the user judged, when there are any. */
  userJudged?: UserJudgedCheck;
  /** Better on the held-out queries, and not worse on the user's judgements. */
  better: boolean;
}

export interface Comparison {
  queries: number;
  base: MetricSummary;
  tuned: MetricSummary;
  /** tuned − base nDCG@10: mean and paired bootstrap 95% interval. */
  ndcgDifference: BootstrapInterval;
  /** The same on the queries the user judged, when there are any. */
  userJudged?: UserJudgedComparison;
}

export interface TuneReport {
  runDir: string;
  /** Where `fresh` moved the run folder that was there; it is kept, for the user to delete. */
  earlierRun?: string;
  store: string;
  student: string;
  teacher: string;
  llm: string;
  baseVersion: string;
  tunedVersion?: string;
  infonceVersion?: string;
  queries?: { generated: number; kept: number; heldOut: number; heldOutPassages: number; dropped: Record<string, number> };
  /** The user's judgements from the search view that this run evaluates on. */
  userJudged?: UserJudgedSnapshot;
  teacherCheck?: TeacherCheck;
  training?: { train: number; dev: number; batchSize: number; lr?: number; dropped: Record<string, number>; steps?: number; stopped?: string; bestDevLoss?: number | null };
  comparison?: Comparison;
  promoted: boolean;
  /** Why the run ended where it did, in words. */
  outcome: string;
  stoppedAt?: TuneStage;
  seconds: number;
}

/** The smallest number of filtered training queries worth a training run. */
export const MIN_TRAIN_QUERIES = 16;

/**
 * `specialize tune`: index → synthetic queries (sampled passages, some held out) → the base model's
 * rankings of the held-out queries → teacher scores → teacher check → filters and split → train →
 * export → embed into a new model version → evaluate base and tuned on the held-out queries → promote
 * only when the gain's bootstrap interval excludes zero. Each stage is recorded in the run folder when
 * it finishes, so a rerun resumes at the stage in flight (the trainer resumes inside its own stages).
 */
export async function runTune(options: TuneOptions): Promise<TuneReport> {
  const started = performance.now();
  const signal = options.signal;
  const studentId = options.student ?? DEFAULT_MODEL_ID;
  const runDir = path.resolve(options.runDir ?? path.join(options.storeDir, 'tune'));
  const earlierRun = options.fresh ? await RunDirectory.setAside(runDir) : undefined;
  const teacherMembers = options.teacher ?? DEFAULT_TEACHER;
  const settings = {
    folders: options.folders.map((folder) => path.resolve(folder)),
    student: studentId,
    teacher: teacherMembers,
    llm: options.client.modelId,
    budget: options.budget,
    types: [...options.types],
    mode: options.mode ?? 'combined',
    compareInfonce: options.compareInfonce === true,
    // Only when not the default, so runs started before the option existed still resume.
    ...(options.candidateSource && options.candidateSource !== 'student' ? { candidates: options.candidateSource } : {}),
  };
  // The run folder lives inside the store by default, and a store must start as an empty folder.
  (await Store.open(options.storeDir, { create: true })).close();
  const run = await RunDirectory.open(runDir, settings);
  const stage = <T>(name: TuneStage, body: () => Promise<T>): Promise<T> => {
    if (run.finished(name) === undefined) options.onStage?.(name, false);
    return run.stage(name, body, { ...(signal ? { signal } : {}), onSkip: () => options.onStage?.(name, true) });
  };
  const progress = options.onProgress;
  let trainer: TrainerClient | undefined;
  const trainerClient = async () =>
    (trainer ??= await TrainerClient.start({
      ...options.trainer,
      onProgress: (event) => progress?.(trainerProgress(event)),
    }));
  const report: TuneReport = { runDir, store: path.resolve(options.storeDir), student: studentId, teacher: describeTeacher(teacherMembers), llm: options.client.description, ...(earlierRun ? { earlierRun } : {}), baseVersion: '', promoted: false, outcome: '', seconds: 0 };
  const finish = (outcome: string, stoppedAt?: TuneStage) => ({ ...report, outcome, ...(stoppedAt ? { stoppedAt } : {}), seconds: (performance.now() - started) / 1000 });

  try {
    // 1. Index with the student: the base model version everything is compared against.
    const indexed = await stage('index', async () => {
      if (options.folders.length === 0) return storeContents(options.storeDir);
      const result = await indexFolders({ folders: options.folders, storeDir: options.storeDir, model: studentId, ...options.scan, ...(options.threads ? { threads: options.threads } : {}), ...(signal ? { signal } : {}), ...(progress ? { onProgress: progress } : {}) });
      return { version: result.vectors.version, passages: result.passageCount, files: result.scan.indexedFiles };
    });
    if (indexed.passages === 0) {
      throw new SpecializeError(`Nothing indexable was found in ${options.folders.join(', ')} (0 passages).`, 'Point tune at folders with text, docs or code; `specialize index <folder> --dry-run` lists what is skipped and why.', 'invalid-input');
    }
    report.baseVersion = indexed.version;
    await checkActiveIsBase(options.storeDir, indexed.version);

    // 2. Synthetic queries (the round-trip filter included), resumable through the generation log.
    const synth = await stage('queries', async () => {
      const summary = await runSynth({
        storeDir: options.storeDir,
        outDir: run.path('synth'),
        client: options.client,
        types: options.types,
        perType: options.budget.perType,
        maxPassages: options.budget.maxPassages,
        holdOut: options.budget.holdOut,
        candidateSource: options.candidateSource ?? 'student',
        seed: 42,
        ...(options.threads ? { threads: options.threads } : {}),
        ...(signal ? { signal } : {}),
        ...(progress ? { onProgress: progress } : {}),
      });
      if (summary.cancelled) throw new CancelledError('tuning run');
      return summaryOf(summary);
    });
    report.queries = synth;
    if (synth.heldOutPassages === 0) {
      throw new SpecializeError(
        'No passage could be held out for evaluation (the sample is too small, or every passage is the only one of its folder and file type).',
        'Tune a larger folder, or raise --max-passages and --hold-out: without held-out queries a tuned model cannot be proven better.',
        'invalid-input',
      );
    }
    if (synth.kept - synth.heldOut === 0 || synth.heldOut === 0) {
      const reasons = Object.entries(synth.dropped).map(([reason, n]) => `${reason} ${n}`).join(', ');
      throw new SpecializeError(
        `The LLM wrote no usable ${synth.heldOut === 0 ? 'held-out' : 'training'} queries (${synth.generated} parsed, ${synth.kept} kept${reasons ? `; dropped: ${reasons}` : ''}).`,
        'Check the LLM (`specialize synth` shows its answers in generations.jsonl), use a stronger one with --llm, or tune a larger folder.',
        'invalid-input',
      );
    }

    // 3. The base model's rankings of the held-out queries: the teacher check's candidates and the "before" of the evaluation.
    const heldOut = await stage('held-out', async () => {
      const queries = readJsonLines<{ passage_id: string; type: string; query: string; split: string }>(path.join(run.path('synth'), SYNTH_FILES.queries))
        .filter((row) => row.split === 'heldout')
        .map((row, index): HeldOutQuery => ({ qid: `h${index}`, passage_id: row.passage_id, type: row.type, query: row.query }));
      const rankings = await withEmbedder(indexed.version, options, (embedder, store) => rankAll(store, embedder, queries.map((q) => q.query), EVAL_DEPTH, { ...(options.threads ? { threads: options.threads } : {}), ...(signal ? { signal } : {}) }));
      await writeJsonLines(run.path('heldout.jsonl'), queries.map((query, index) => ({ ...query, ranked: rankings[index] })));
      return { queries: queries.length };
    });

    // 3b. The queries the user judged in the search view (when any), ranked by the base model: a second,
    // human-made evaluation set beside the synthetic one.
    const userJudged = await stage('user-judged', async () => {
      const { queries, snapshot } = await withEmbedder(indexed.version, options, async (embedder, store) => {
        const current = await currentJudgedQueries(store, options.storeDir);
        const rankings = await rankAll(store, embedder, current.queries.map((q) => q.query), EVAL_DEPTH, { ...(options.threads ? { threads: options.threads } : {}), ...(signal ? { signal } : {}) });
        return { queries: current.queries.map((query, index): UserJudgedQuery => ({ ...query, ranked: rankings[index] ?? [] })), snapshot: current.snapshot };
      });
      await writeJsonLines(run.path(USER_JUDGED_FILE), queries);
      return snapshot;
    });
    if (userJudged.marks > 0) report.userJudged = userJudged;

    // 4. Teacher scores for the training queries' candidates and the held-out queries' top 20.
    const teacherFolders = await resolveTeacherFolders(teacherMembers, { ...(signal ? { signal } : {}), ...(progress ? { onProgress: progress } : {}) });
    await stage('teacher', async () => {
      await writeTeacherFiles(run, options.storeDir, hasLexicalMember(teacherMembers));
      const client = await trainerClient();
      const scorer = scorerSpec(teacherMembers, teacherFolders);
      return (await client.request(TeacherScoreRequest, { run_dir: run.dir, scorer, device: options.device ?? 'auto' }, signal)) as TeacherScoreResult;
    });
    const scores = new Map(readJsonLines<TeacherScoreLine>(run.path('teacher_scores.jsonl')).map((line) => [line.qid, line]));

    // 5. The teacher check: a student cannot learn what its teacher does not know.
    const check = await stage('teacher-check', async () => teacherCheck(run, scores));
    report.teacherCheck = check;
    if (!check.better && !options.force) {
      const onHeldOut = `${check.queries} held-out queries (nDCG@10 ${check.teacher['ndcg@10'].toFixed(4)} vs ${check.student['ndcg@10'].toFixed(4)})`;
      const user = check.userJudged;
      const where = check.teacher['ndcg@10'] > check.student['ndcg@10'] && user ? `the ${judgedCount(user.queries)} you judged (nDCG@10 ${user.teacher['ndcg@10'].toFixed(4)} vs ${user.student['ndcg@10'].toFixed(4)}; on ${onHeldOut} it is better)` : onHeldOut;
      return finish(`The teacher (${report.teacher}) is not better than the student on ${where}: training would not help. Use a stronger --teacher, or --force to train anyway.`, 'teacher-check');
    }

    // 6. Filters, candidate lists and the train/dev split.
    const data = await stage('training-data', async () => {
      const queries = readJsonLines<TrainQuery>(run.path('train_queries.jsonl'));
      const split = splitTrainingData(queries, scores, options.budget.candidates);
      await writeJsonLines(run.path('train.jsonl'), split.train);
      await writeJsonLines(run.path('dev.jsonl'), split.dev);
      return { train: split.train.length, dev: split.dev.length, dropped: split.dropped, batchSize: batchSizeFor(split.train.length, options.budget) };
    });
    report.training = { ...data };
    if (data.train < MIN_TRAIN_QUERIES || data.dev === 0) {
      return finish(`Only ${data.train} training queries (and ${data.dev} dev queries) passed the filters; at least ${MIN_TRAIN_QUERIES} are needed to train. Tune a larger folder or use --budget full.`, 'training-data');
    }

    // 7-8. Train and export (the trainer resumes from its checkpoint and its export is atomic).
    const studentModel = await resolveModel(studentId, { ...(signal ? { signal } : {}) });
    const trained = await stage('train', async () => {
      const client = await trainerClient();
      return (await client.request(
        TrainRunRequest,
        { run_dir: run.dir, student: studentModel.dir, output: 'student', mode: options.mode ?? 'combined', passage_max_tokens: options.budget.passageMaxTokens, batch_size: data.batchSize, lr: learningRateFor(data.batchSize), epochs: options.budget.epochs, patience: options.budget.patience, device: options.device ?? 'auto' },
        signal,
      )) as TrainRunResult;
    });
    await removeCheckpoints(run, 'checkpoints');
    report.training = { ...data, lr: learningRateFor(data.batchSize), steps: trained.steps, stopped: trained.stopped, bestDevLoss: trained.best_dev_loss };
    const exported = await stage('export', async () => {
      const client = await trainerClient();
      return (await client.request(ModelExportRequest, { run_dir: run.dir, model: 'student', output: 'export', int8: true }, signal)) as ModelExportResult;
    });

    // 9. A new model version in the store, next to the base one (nothing changes for search yet).
    const tuned = await stage('embed', async () => embedVersion(options, await keepModelInStore(exported.output, options.storeDir, 'tuned', signal), `tuned ${path.basename(runDir)} ${new Date().toISOString().slice(0, 10)}`, indexed.version));
    report.tunedVersion = tuned.version;

    // The InfoNCE-only baseline on the same data, for the paper's comparison (never promoted).
    if (options.compareInfonce) {
      await stage('train-infonce', async () => {
        const client = await trainerClient();
        const params = { run_dir: run.dir, student: studentModel.dir, output: 'student-infonce', checkpoints: 'checkpoints-infonce', mode: 'infonce' as const, passage_max_tokens: options.budget.passageMaxTokens, lr: learningRateFor(data.batchSize), batch_size: data.batchSize, epochs: options.budget.epochs, patience: options.budget.patience, device: options.device ?? 'auto' };
        return (await client.request(TrainRunRequest, params, signal)) as TrainRunResult;
      });
      await removeCheckpoints(run, 'checkpoints-infonce');
      const exportedInfonce = await stage('export-infonce', async () => {
        const client = await trainerClient();
        return (await client.request(ModelExportRequest, { run_dir: run.dir, model: 'student-infonce', output: 'export-infonce', int8: false }, signal)) as ModelExportResult;
      });
      const infonce = await stage('embed-infonce', async () => embedVersion(options, await keepModelInStore(exportedInfonce.output, options.storeDir, 'infonce', signal), `infonce baseline ${path.basename(runDir)}`, indexed.version));
      report.infonceVersion = infonce.version;
    }
    await trainer?.shutdown();
    trainer = undefined;

    // 10. Base vs tuned on the held-out queries.
    const comparison = await stage('evaluate', async () => evaluate(run, options, indexed.version, tuned.version, heldOut.queries));
    report.comparison = comparison;

    // 11. Promote only a measured gain.
    const rule = decidePromotion({ heldOut: comparison.ndcgDifference, ...(comparison.userJudged ? { userJudged: comparison.userJudged.ndcgDifference } : {}) });
    const decision = await stage('promote', async () => {
      const promote = rule.promote;
      if (promote) {
        const store = await Store.open(options.storeDir);
        try {
          await store.setActiveModel(tuned.version);
        } finally {
          store.close();
        }
      }
      return { promoted: promote };
    });
    report.promoted = decision.promoted;
    const final = finish(rule.outcome);
    await fs.promises.writeFile(run.path('report.json'), `${JSON.stringify(final, null, 2)}\n`);
    return final;
  } finally {
    await trainer?.shutdown();
  }
}

async function checkActiveIsBase(storeDir: string, baseVersion: string): Promise<void> {
  const store = await Store.open(storeDir);
  try {
    const active = store.activeModel;
    if (active && active.version !== baseVersion) {
      throw new SpecializeError(
        `The active model of ${storeDir} is ${active.version} (${active.modelId}), not the student's ${baseVersion}: tuning starts from the student.`,
        `Switch back with \`specialize use ${baseVersion} --store ${storeDir}\`, or pass --student ${active.modelId}.`,
        'invalid-input',
      );
    }
  } finally {
    store.close();
  }
}

/** teacher_input.jsonl and passages.jsonl: training queries with their candidates (source first), and held-out queries with the base's top 20. */
async function writeTeacherFiles(run: RunDirectory, storeDir: string, lexical: boolean): Promise<void> {
  const train = readJsonLines<{ passage_id: string; type: string; query: string; candidates: string[] }>(path.join(run.path('synth'), SYNTH_FILES.candidates)).map((row, index): TrainQuery => ({ ...row, qid: `t${index}`, candidates: sourceFirst(row.passage_id, row.candidates) }));
  const heldOut = readJsonLines<HeldOutQuery & { ranked: string[] }>(run.path('heldout.jsonl'));
  const lines: TeacherInputLine[] = [
    ...train.map((query) => ({ qid: query.qid, query: query.query, type: query.type, candidates: query.candidates })),
    // One group for the held-out queries, so their scores do not move the training queries' normalisation.
    ...heldOut.map((query) => ({ qid: query.qid, query: query.query, type: 'held-out', candidates: query.ranked.slice(0, 20) })),
    ...readUserJudged(run.path(USER_JUDGED_FILE)).map((query) => ({ qid: query.qid, query: query.query, type: 'user-judged', candidates: query.ranked.slice(0, 20) })),
  ];
  await writeJsonLines(run.path('train_queries.jsonl'), train);
  await writeTeacherInput(run.dir, storeDir, lines, { lexical });
}

/** The store's passages and active model, when tune runs on a store filled elsewhere (a benchmark collection). */
async function storeContents(storeDir: string): Promise<{ version: string; passages: number; files: number }> {
  const store = await Store.open(storeDir);
  try {
    const active = store.activeModel;
    if (!active) throw new SpecializeError(`The index at ${storeDir} has no embeddings yet.`, 'Index it first, or pass folders to tune.', 'not-found');
    return { version: active.version, passages: await store.passageCount(), files: 0 };
  } finally {
    store.close();
  }
}

/** Embeds every passage with an exported model into its own model version (search does not change). */
async function embedVersion(options: TuneOptions, modelDir: string, label: string, baseVersion: string): Promise<{ version: string }> {
  const model = await resolveModel(modelDir, { ...(options.signal ? { signal: options.signal } : {}) });
  const embedder = await Embedder.create({ model, precision: 'fp32', ...(options.threads ? { threads: options.threads } : {}) });
  const store = await Store.open(options.storeDir);
  try {
    const vectors = await store.syncVectors(embedder, modelDir, { ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    await store.annotateModel(vectors.version, { label, tunedFrom: baseVersion });
    return { version: vectors.version };
  } finally {
    await embedder.close();
    store.close();
  }
}

function teacherCheck(run: RunDirectory, scores: ReadonlyMap<string, TeacherScoreLine>): TeacherCheck {
  const heldOut = readJsonLines<HeldOutQuery & { ranked: string[] }>(run.path('heldout.jsonl'));
  const studentRankings = heldOut.map((query) => query.ranked.slice(0, 20));
  const teacherRankings = heldOut.map((query) => {
    const line = scores.get(query.qid);
    return line ? teacherOrder(line.candidates, line.raw) : query.ranked.slice(0, 20);
  });
  const student = summarise(scoreAgainstSources(heldOut, studentRankings));
  const teacher = summarise(scoreAgainstSources(heldOut, teacherRankings));
  // A run begun before the user-judged stage existed scored no judged queries; they count from its next fresh run.
  const judged = readUserJudged(run.path(USER_JUDGED_FILE)).filter((query) => scores.has(query.qid));
  if (judged.length === 0) return { queries: heldOut.length, student, teacher, better: teacher['ndcg@10'] > student['ndcg@10'] };
  const userJudged: UserJudgedCheck = {
    queries: judged.length,
    student: summarise(scoreAgainstJudgements(judged, judged.map((query) => query.ranked.slice(0, 20)))),
    teacher: summarise(
      scoreAgainstJudgements(
        judged,
        judged.map((query) => {
          const line = scores.get(query.qid) as TeacherScoreLine;
          return teacherOrder(line.candidates, line.raw);
        }),
      ),
    ),
  };
  // What the user said outranks the synthetic queries: a teacher that orders their results worse is not better.
  const better = teacher['ndcg@10'] > student['ndcg@10'] && userJudged.teacher['ndcg@10'] >= userJudged.student['ndcg@10'];
  return { queries: heldOut.length, student, teacher, userJudged, better };
}

async function evaluate(run: RunDirectory, options: TuneOptions, baseVersion: string, tunedVersion: string, expected: number): Promise<Comparison> {
  const heldOut = readJsonLines<HeldOutQuery & { ranked: string[] }>(run.path('heldout.jsonl'));
  if (heldOut.length !== expected) throw new SpecializeError(`${run.path('heldout.jsonl')} has ${heldOut.length} queries, expected ${expected}.`, 'Start over with --fresh.', 'store-invalid');
  const judged = readUserJudged(run.path(USER_JUDGED_FILE));
  // One pass of the tuned model over both query sets: loading it is the expensive part.
  const rankings = await withEmbedder(tunedVersion, options, (embedder, store) => rankAll(store, embedder, [...heldOut, ...judged].map((q) => q.query), EVAL_DEPTH, { ...(options.threads ? { threads: options.threads } : {}), ...(options.signal ? { signal: options.signal } : {}) }));
  const comparison: Comparison = compare(
    scoreAgainstSources(heldOut, heldOut.map((query) => query.ranked)),
    scoreAgainstSources(heldOut, rankings.slice(0, heldOut.length)),
  );
  if (judged.length > 0) {
    comparison.userJudged = compare(
      scoreAgainstJudgements(judged, judged.map((query) => query.ranked)),
      scoreAgainstJudgements(judged, rankings.slice(heldOut.length)),
    );
  }
  const store = await Store.open(options.storeDir);
  try {
    const evaluatedAt = new Date().toISOString();
    await store.recordEvaluation(baseVersion, { evaluatedAt, queries: heldOut.length, source: 'held-out synthetic', metrics: comparison.base, run: run.dir });
    await store.recordEvaluation(tunedVersion, { evaluatedAt, queries: heldOut.length, source: 'held-out synthetic', metrics: comparison.tuned, baseVersion, run: run.dir });
  } finally {
    store.close();
  }
  return comparison;
}

/** Base against tuned on one query set: the summaries and the paired bootstrap of the nDCG@10 difference. */
function compare(base: readonly PerQueryMetrics[], tuned: readonly PerQueryMetrics[]): Comparison {
  return { queries: base.length, base: summarise(base), tuned: summarise(tuned), ndcgDifference: pairedBootstrap(ndcgs(base), ndcgs(tuned)) };
}

function ndcgs(perQuery: readonly PerQueryMetrics[]): number[] {
  return perQuery.map((query) => query['ndcg@10']);
}

/** Runs `body` with an embedder for one of the store's model versions. */
export async function withEmbedder<T>(version: string, options: Pick<TuneOptions, 'storeDir' | 'threads' | 'signal'>, body: (embedder: Embedder, store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(options.storeDir);
  let embedder: Embedder | undefined;
  try {
    const entry = store.models.find((model) => model.version === version);
    if (!entry) throw new SpecializeError(`The index has no model version ${version}.`, 'Start over with --fresh.', 'store-invalid');
    const model = await resolveModel(entry.modelId, { int8: entry.precision === 'int8', ...(options.signal ? { signal: options.signal } : {}) });
    embedder = await Embedder.create({ model, precision: entry.precision, ...(options.threads ? { threads: options.threads } : {}) });
    throwIfAborted(options.signal, 'tuning run');
    return await body(embedder, store);
  } finally {
    await embedder?.close();
    store.close();
  }
}

function summaryOf(summary: SynthSummary): NonNullable<TuneReport['queries']> {
  return { generated: summary.generated, kept: summary.kept, heldOut: summary.heldOutQueries, heldOutPassages: summary.passages.heldOut, dropped: summary.dropped };
}

/**
 * The trainer's checkpoints (the last state with its optimizer, about 3x the model, and the best
 * weights) exist to resume an interrupted training; once the stage is recorded nothing reads them,
 * and they were two thirds of a finished run folder (about 350 MB of 550 MB for MiniLM).
 */
async function removeCheckpoints(run: RunDirectory, folder: string): Promise<void> {
  await fs.promises.rm(run.path(folder), { recursive: true, force: true });
}

function trainerProgress(event: ProgressParams): { stage: string; done: number; total: number; unit: string; message?: string } {
  const parts: string[] = [];
  if (event.loss) parts.push(Object.entries(event.loss).map(([name, value]) => `${name} ${value === null ? 'n/a' : value.toFixed(4)}`).join(', '));
  if (event.throughput) parts.push(`${event.throughput.toFixed(1)} ${event.throughput_unit ?? 'items'}/s`);
  if (event.message) parts.push(event.message);
  const unit = event.stage === 'teacher' ? 'pairs' : event.stage === 'dev' ? 'epochs' : 'steps';
  // The trainer's ETA knows about resumed steps and the dev passes between epochs; done/elapsed does not.
  const eta = event.eta_seconds !== undefined && event.eta_seconds !== null ? { etaSeconds: event.eta_seconds } : {};
  return { stage: event.stage === 'teacher' ? 'teacher scores' : event.stage === 'dev' ? 'dev loss' : event.stage, done: event.step, total: event.total, unit, ...eta, ...(parts.length ? { message: parts.join('; ') } : {}) };
}
