import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../src/core/errors';
import { DebugCrashRequest, DebugSleepRequest, ModelExportRequest, PROTOCOL_VERSION, TrainerErrorCodes, type LogParams, type ProgressParams } from '../../src/core/trainer/protocol';
import { RestartSupervisor } from '../../src/core/trainer/supervisor';
import { TrainerClient, type TrainerRestartEvent } from '../../src/core/trainer/trainerClient';
import { TrainerError } from '../../src/core/trainer/trainerErrors';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('TrainerClient against the real trainer process', () => {
  let trainer: TrainerClient;
  const progress: ProgressParams[] = [];
  const logs: LogParams[] = [];
  const stderr: string[] = [];
  const restarts: TrainerRestartEvent[] = [];

  beforeAll(async () => {
    trainer = await TrainerClient.start({
      onProgress: (entry) => progress.push(entry),
      onLog: (entry) => logs.push(entry),
      onStderr: (line) => stderr.push(line),
      onRestart: (event) => restarts.push(event),
      restart: { initialDelayMs: 20 },
    });
  });
  afterAll(() => trainer?.shutdown());

  it('starts with the initialize handshake and reports the environment', async () => {
    const info = trainer.info;
    expect(info).toMatchObject({ server: 'specialize-trainer', protocol_version: PROTOCOL_VERSION, pid: trainer.pid });
    expect(info.python.executable).toMatch(/python/);
    expect(info.python.version).toMatch(/^3\.\d+\.\d+/);
    expect(info.torch.version).toMatch(/^2\./);
    expect(info.torch.threads).toBeGreaterThan(0);
    expect(typeof info.cuda.available).toBe('boolean');
    expect(info.cuda.version === null || typeof info.cuda.version === 'string').toBe(true);
    expect(['cuda', 'mps', 'cpu']).toContain(info.device.type);
    expect(info.device.name.length).toBeGreaterThan(0);
    expect(typeof info.device.bf16).toBe('boolean');
    expect(info.device.total_memory_bytes).toBeGreaterThan(0);
    expect(info.packages.sentence_transformers).toMatch(/^\d+\./);
    expect(info.packages.transformers).toMatch(/^\d+\./);
    expect(info.methods).toEqual(['initialize', 'model/export', 'shutdown', 'teacher/score', 'train/run']);
    // Asking again answers the same for the same process.
    expect(await trainer.initialize()).toEqual(info);
  });

  it('runs a request and forwards its progress notifications', async () => {
    progress.length = 0;
    const result = await trainer.request(DebugSleepRequest, { seconds: 0.2, steps: 4 });
    expect(result.steps_done).toBe(4);
    expect(progress.map((entry) => entry.step)).toEqual([1, 2, 3, 4]);
    expect(progress[3]).toMatchObject({ method: 'debug/sleep', stage: 'debug/sleep', total: 4, loss: { debug: 0.25 }, lr: 0, throughput_unit: 'steps', eta_seconds: 0 });
    expect(typeof progress[0]?.request_id).toBe('number');
    expect(progress[0]?.throughput).toBeGreaterThan(0);
  });

  it('cancels a request through its AbortSignal within one step, and keeps the process', async () => {
    progress.length = 0;
    const pid = trainer.pid;
    const controller = new AbortController();
    // One second per step: a cancellation honoured between steps answers well within one.
    const running = trainer.request(DebugSleepRequest, { seconds: 30, steps: 30 }, controller.signal);
    await until(() => progress.length > 0);
    const start = Date.now();
    controller.abort();
    await expect(running).rejects.toBeInstanceOf(CancelledError);
    expect(Date.now() - start).toBeLessThan(1000);
    expect(trainer.pid).toBe(pid);
    await expect(trainer.request(DebugSleepRequest, { seconds: 0, steps: 1 })).resolves.toMatchObject({ steps_done: 1 });
    // An already aborted signal sends nothing.
    await expect(trainer.request(DebugSleepRequest, { seconds: 5 }, controller.signal)).rejects.toBeInstanceOf(CancelledError);
  });

  it('names an unknown method, a run directory that does not exist, and bad params', async () => {
    const unknown = await trainer.request('no/such/method', {}).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(TrainerError);
    expect((unknown as TrainerError).rpcCode).toBe(TrainerErrorCodes.MethodNotFound);
    expect((unknown as TrainerError).message).toMatch(/The trainer has no method "no\/such\/method"/);
    expect((unknown as TrainerError).fix).toMatch(/npm run setup/);

    const noRun = await trainer.request(ModelExportRequest, { run_dir: '/nonexistent/run' }).catch((error: unknown) => error);
    expect(noRun).toBeInstanceOf(TrainerError);
    expect((noRun as TrainerError).rpcCode).toBe(TrainerErrorCodes.Problem);

    // train/run is real: a run directory without training data is a problem the user can fix.
    const missing = await trainer.request('train/run', { run_dir: '/nonexistent/run', student: '/nonexistent/student' }).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(TrainerError);
    expect((missing as TrainerError).rpcCode).not.toBe(TrainerErrorCodes.NotImplementedYet);

    await expect(trainer.request(DebugSleepRequest, { seconds: -1 })).rejects.toThrow(/seconds must be a number/);
  });

  it('rejects the requests of a crashed process clearly, restarts it, and the next request works', async () => {
    const pid = trainer.pid as number;
    const sleeping = trainer.request(DebugSleepRequest, { seconds: 10, steps: 10 });
    const crashed = trainer.request(DebugCrashRequest);
    await expect(crashed).rejects.toThrow(/exited unexpectedly \(exit code 3\) during debug\/crash\. Its last output: .*debug\/crash: exiting with code 3/);
    await expect(sleeping).rejects.toThrow(/exited unexpectedly \(exit code 3\) during debug\/sleep/);
    expect(stderr).toContain('debug/crash: exiting with code 3 as asked');

    await expect(trainer.request(DebugSleepRequest, { seconds: 0, steps: 1 })).resolves.toMatchObject({ steps_done: 1 });
    expect(restarts).toHaveLength(1);
    expect(restarts[0]).toMatchObject({ attempt: 1, delayMs: 20 });
    expect(trainer.state).toBe('running');
    expect(trainer.pid).not.toBe(pid);
    expect(trainer.info.pid).toBe(trainer.pid);
    expect(isAlive(pid)).toBe(false);
  });

  it('shutdown ends the child and refuses later requests', async () => {
    const pid = trainer.pid as number;
    await trainer.shutdown();
    expect(trainer.state).toBe('closed');
    await until(() => !isAlive(pid), 5_000);
    await expect(trainer.request(DebugSleepRequest, { seconds: 0 })).rejects.toThrow(/The trainer was shut down/);
  });
});

describe('TrainerClient supervision and start failures', () => {
  it('gives up after too many crashes in the window, with the last stderr lines', async () => {
    const restarts: TrainerRestartEvent[] = [];
    const trainer = await TrainerClient.start({ restart: { maxRestarts: 1, windowMs: 60_000, initialDelayMs: 10 }, onRestart: (event) => restarts.push(event) });
    try {
      await expect(trainer.request(DebugCrashRequest)).rejects.toThrow(/exited unexpectedly/);
      await expect(trainer.request(DebugCrashRequest)).rejects.toThrow(/exited unexpectedly/);
      const error = await trainer.request(DebugSleepRequest, { seconds: 0 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TrainerError);
      expect((error as TrainerError).message).toMatch(/crashed 2 times within 60 s and is not restarted again \(at most 1 restarts\).*debug\/crash: exiting with code 3/);
      expect((error as TrainerError).fix).toMatch(/specialize doctor/);
      expect(trainer.state).toBe('failed');
      expect(restarts.map((event) => event.attempt)).toEqual([1]);
    } finally {
      await trainer.shutdown();
    }
  });

  it('launches through a command prefix', async () => {
    const trainer = await TrainerClient.start({ commandPrefix: ['env', 'SPECIALIZE_PREFIXED=1'] });
    try {
      expect(trainer.info.server).toBe('specialize-trainer');
    } finally {
      await trainer.shutdown();
    }
  });

  it('says why the trainer cannot start', async () => {
    await expect(TrainerClient.start({ commandPrefix: ['/no/such/ssh', 'gpu-host'] })).rejects.toThrow(/Cannot start the trainer \(\/no\/such\/ssh gpu-host .*ENOENT/);
    const broken = await TrainerClient.start({ env: { PYTHONPATH: '/nonexistent' } }).catch((error: unknown) => error);
    expect(broken).toBeInstanceOf(TrainerError);
    expect((broken as TrainerError).message).toMatch(/exited during startup \(exit code 1\).*No module named 'specialize_trainer'/);
    expect((broken as TrainerError).fix).toMatch(/npm run setup|SPECIALIZE_PYTHON/);
  });
});

describe('RestartSupervisor', () => {
  it('backs off exponentially, forgets old crashes, and gives up past maxRestarts in the window', () => {
    let now = 0;
    const supervisor = new RestartSupervisor({ maxRestarts: 3, windowMs: 1000, initialDelayMs: 100, maxDelayMs: 250 }, () => now);
    expect(supervisor.onCrash()).toEqual({ restart: true, attempt: 1, delayMs: 100 });
    expect(supervisor.onCrash()).toEqual({ restart: true, attempt: 2, delayMs: 200 });
    expect(supervisor.onCrash()).toEqual({ restart: true, attempt: 3, delayMs: 250 });
    expect(supervisor.onCrash()).toEqual({ restart: false, crashes: 4 });
    now = 5000;
    expect(supervisor.onCrash()).toEqual({ restart: true, attempt: 1, delayMs: 100 });
  });
});
