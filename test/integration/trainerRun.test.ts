import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Embedder } from '../../src/core/embed/embedder';
import { CancelledError } from '../../src/core/errors';
import { resolveModel } from '../../src/core/models/resolver';
import { DebugCrashRequest, DebugSleepRequest, ModelExportRequest, TeacherScoreRequest, TrainRunRequest, type ProgressParams, type TrainRunParams } from '../../src/core/trainer/protocol';
import { pythonExecutable } from '../../src/core/python/pythonEnv';
import { TrainerClient, type TrainerRestartEvent } from '../../src/core/trainer/trainerClient';
import { cosine, referenceEmbeddings, tempDir } from '../helpers/env';
import { testHome, tinyModelDir } from '../helpers/models';

const TOPICS = ['error', 'file', 'model', 'query', 'index', 'vector', 'token', 'server', 'config', 'build', 'test', 'data'];
const CANDIDATES = 6;

function writeJsonl(file: string, records: unknown[]): void {
  fs.writeFileSync(file, records.map((record) => JSON.stringify(record)).join('\n') + '\n');
}

function readJsonl<T>(file: string): T[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T);
}

/** passages.jsonl and teacher_input.jsonl: one query per passage, its source first, then neighbours. */
function writeTeacherInput(runDir: string): void {
  const passages = TOPICS.flatMap((topic, i) => [
    { id: `p${2 * i}`, text: `how to ${topic} the ${TOPICS[(i + 1) % TOPICS.length]} for a search index` },
    { id: `p${2 * i + 1}`, text: `the ${topic} api key is a string in the config file of the server` },
  ]);
  const queries = passages.map((passage, i) => ({
    qid: `q${i}`,
    query: `what ${passage.text.split(' ').slice(2, 5).join(' ')}`,
    type: 'synthetic',
    candidates: Array.from({ length: CANDIDATES }, (_, k) => passages[(i + k * 5) % passages.length]?.id),
  }));
  writeJsonl(path.join(runDir, 'passages.jsonl'), passages);
  writeJsonl(path.join(runDir, 'teacher_input.jsonl'), queries);
}

describe('the training pipeline from TypeScript against the real trainer process', () => {
  let trainer: TrainerClient;
  const progress: ProgressParams[] = [];
  const restarts: TrainerRestartEvent[] = [];
  const student = tinyModelDir();
  const teacher = tinyModelDir({ seed: 1 });
  const runDir = tempDir('specialize-run-');
  const resumedDir = tempDir('specialize-run-resumed-');
  const train = (dir: string, overrides: Partial<TrainRunParams> = {}): TrainRunParams => ({
    run_dir: dir,
    student,
    batch_size: 4,
    micro_batch: 4,
    epochs: 3,
    lr: 2e-3,
    device: 'cpu',
    ...overrides,
  });

  beforeAll(async () => {
    trainer = await TrainerClient.start({ onProgress: (entry) => progress.push(entry), onRestart: (event) => restarts.push(event), restart: { initialDelayMs: 20 } });
  });
  afterAll(() => trainer?.shutdown());

  it('initializes and scores the run dir with a bi-encoder teacher', async () => {
    expect(trainer.info.methods).toEqual(expect.arrayContaining(['teacher/score', 'train/run']));
    writeTeacherInput(runDir);
    progress.length = 0;
    const result = await trainer.request(TeacherScoreRequest, { run_dir: runDir, scorer: { kind: 'bi-encoder', model: teacher }, batch_size: 32, device: 'cpu' });
    expect(result).toMatchObject({ queries: 24, pairs: 24 * CANDIDATES, resumed_shards: 0, output: path.join(runDir, 'teacher_scores.jsonl') });
    expect(progress.filter((entry) => entry.stage === 'teacher').at(-1)).toMatchObject({ method: 'teacher/score', step: 24 * CANDIDATES, total: 24 * CANDIDATES, throughput_unit: 'pairs' });

    // train.jsonl / dev.jsonl from the teacher's scores: candidates stay source first, scores aligned.
    const inputs = new Map(readJsonl<{ qid: string; query: string; candidates: string[] }>(path.join(runDir, 'teacher_input.jsonl')).map((q) => [q.qid, q]));
    const scored = readJsonl<{ qid: string; candidates: string[]; scores: number[] }>(result.output);
    expect(scored.map((line) => line.qid)).toEqual([...inputs.keys()]);
    const records = scored.map((line) => {
      const input = inputs.get(line.qid);
      expect(line.candidates).toEqual(input?.candidates);
      expect(line.scores).toHaveLength(CANDIDATES);
      expect(Math.min(...line.scores)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...line.scores)).toBeLessThanOrEqual(1);
      return { qid: line.qid, query: input?.query, candidates: line.candidates, scores: line.scores };
    });
    writeJsonl(path.join(runDir, 'train.jsonl'), records.slice(0, 16));
    writeJsonl(path.join(runDir, 'dev.jsonl'), records.slice(16));
    for (const file of ['passages.jsonl', 'train.jsonl', 'dev.jsonl']) fs.copyFileSync(path.join(runDir, file), path.join(resumedDir, file));
  });

  it('trains a few steps and reports progress', async () => {
    progress.length = 0;
    const result = await trainer.request(TrainRunRequest, train(runDir, { max_steps: 3 }));
    expect(result).toMatchObject({ steps: 3, stopped: 'max_steps', train_queries: 16, dev_queries: 8, steps_per_epoch: 4, resumed_from_step: null, output: path.join(runDir, 'student') });
    expect(fs.existsSync(path.join(result.output, 'modules.json'))).toBe(true);
    const steps = progress.filter((entry) => entry.stage === 'train');
    expect(steps.map((entry) => entry.step)).toEqual([1, 2, 3]);
    expect(steps[0]).toMatchObject({ method: 'train/run', total: 3, throughput_unit: 'queries' });
    expect(steps[0]?.loss?.total).toEqual(expect.any(Number));
    expect(progress.some((entry) => entry.stage === 'dev')).toBe(true);
  });

  it('cancels a training run through its AbortSignal and resumes it from the checkpoint', async () => {
    progress.length = 0;
    const params = train(resumedDir, { epochs: 40, patience: 100, max_steps: 120, checkpoint_every: 1000 });
    const controller = new AbortController();
    const running = trainer.request(TrainRunRequest, params, controller.signal);
    while (!progress.some((entry) => entry.stage === 'train')) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(running).rejects.toBeInstanceOf(CancelledError);
    const checkpoint = path.join(resumedDir, 'checkpoints', 'last');
    expect(fs.existsSync(path.join(checkpoint, 'state.pt'))).toBe(true);
    const saved = JSON.parse(fs.readFileSync(path.join(checkpoint, 'train_state.json'), 'utf8')) as { state: { step: number } };
    expect(saved.state.step).toBeGreaterThanOrEqual(1);
    expect(saved.state.step).toBeLessThan(120);

    const resumed = await trainer.request(TrainRunRequest, { ...params, max_steps: saved.state.step + 8 });
    expect(resumed).toMatchObject({ resumed_from_step: saved.state.step, steps: saved.state.step + 8, stopped: 'max_steps' });
  });

  it('exports the tuned student to ONNX that the engine loads directly, with parity reported', async () => {
    progress.length = 0;
    const result = await trainer.request(ModelExportRequest, { run_dir: runDir });
    const exportDir = path.join(runDir, 'export');
    expect(result).toMatchObject({ output: exportDir, model_dir: path.join(runDir, 'student'), fp32: { passed: true, path: path.join(exportDir, 'onnx', 'model.onnx') }, int8: { passed: true } });
    expect(result.fp32.min_cosine).toBeGreaterThanOrEqual(0.9999);
    expect(result.int8?.mean_cosine).toBeGreaterThanOrEqual(0.99);
    expect(progress.filter((entry) => entry.method === 'model/export').map((entry) => [entry.step, entry.total])).toEqual([
      [0, 1],
      [1, 1],
    ]);

    const model = await resolveModel(exportDir, { home: testHome, int8: true });
    expect(model.fp32.path).toBe(result.fp32.path);
    expect(model.int8?.path).toBe(result.int8?.path);
    const texts = ['how to build the index', 'the server config file', 'x'];
    const reference = referenceEmbeddings(result.model_dir, texts, 'passage');
    for (const [precision, floor] of [
      ['fp32', 0.9999],
      ['int8', 0.95],
    ] as const) {
      const embedder = await Embedder.create({ model, precision, threads: 1 });
      try {
        const ours = await embedder.embed(texts, 'passage');
        ours.forEach((vector, i) => expect(cosine(vector, reference[i] as number[])).toBeGreaterThanOrEqual(floor));
      } finally {
        await embedder.close();
      }
    }
  });

  it('trains data-parallel on two ranks launched through a torchrun prefix', async () => {
    // torchrun --no-python runs the client's own `python -m specialize_trainer.rpc.server` on every rank.
    const torchrun = [pythonExecutable(), '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '--no-python'];
    const parallel = await TrainerClient.start({ commandPrefix: torchrun, python: pythonExecutable() });
    const parallelDir = tempDir('specialize-run-torchrun-');
    for (const file of ['passages.jsonl', 'train.jsonl', 'dev.jsonl']) fs.copyFileSync(path.join(runDir, file), path.join(parallelDir, file));
    try {
      const result = await parallel.request(TrainRunRequest, train(parallelDir, { max_steps: 2 }));
      expect(result).toMatchObject({ steps: 2, world_size: 2, micro_batch: 4, output: path.join(parallelDir, 'student') });
      expect(fs.existsSync(path.join(result.output, 'modules.json'))).toBe(true);
    } finally {
      await parallel.shutdown();
    }
    expect(parallel.state).toBe('closed');
  });

  it('restarts after a crash and shuts down', async () => {
    const pid = trainer.pid;
    await expect(trainer.request(DebugCrashRequest)).rejects.toThrow(/exited unexpectedly \(exit code 3\)/);
    await expect(trainer.request(DebugSleepRequest, { seconds: 0, steps: 1 })).resolves.toMatchObject({ steps_done: 1 });
    expect(restarts).toHaveLength(1);
    expect(trainer.pid).not.toBe(pid);
    await trainer.shutdown();
    expect(trainer.state).toBe('closed');
  });
});
