import { describe, expect, it } from 'vitest';
import { specializeHome } from '../../src/core/util/paths';
import { runCli } from '../helpers/cli';

// The default student as `npm run setup` prepared it (the tests' own model cache does not hold it).
const home = { SPECIALIZE_HOME: specializeHome() };

interface Report {
  node: { version: string; onnxruntime_node: string | null; lancedb: string | null };
  python: { executable: string; version: string | null; trainer: { started: boolean; pid: number | null; error: string | null } };
  torch: { version: string; threads: number } | null;
  cuda: { available: boolean; version: string | null; device_count: number } | null;
  device: { type: string; name: string; total_memory_bytes: number | null; bf16: boolean } | null;
  student: { id: string; loads: boolean; dimension: number | null };
  teacher: { configured: null; note: string };
  llm: { local: { available: boolean; verified: boolean; note: string | null } };
  problems: string[];
}

describe('specialize doctor', () => {
  it('--json reports the environment of this machine as one object, and exits 0 without problems', () => {
    const result = runCli(['doctor', '--json'], home);
    const report = JSON.parse(result.stdout) as Report;
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['node', 'python', 'torch', 'cuda', 'device', 'student', 'teacher', 'llm', 'problems']));
    expect(report.problems).toEqual([]);
    expect(result.code, result.stderr).toBe(0);

    expect(report.node.version).toBe(process.versions.node);
    expect(report.node.onnxruntime_node).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.node.lancedb).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.python.executable).toMatch(/python/);
    expect(report.python.version).toMatch(/^3\.\d+\.\d+$/);
    expect(report.python.trainer).toMatchObject({ started: true, error: null });
    expect(report.torch?.version).toMatch(/^2\./);
    expect(typeof report.cuda?.available).toBe('boolean');
    expect(report.device?.name.length).toBeGreaterThan(0);
    expect(report.device?.total_memory_bytes).toBeGreaterThan(0);
    expect(typeof report.device?.bf16).toBe('boolean');
    // A machine without a GPU is fine: no CUDA is information, not a problem.
    if (!report.cuda?.available) expect(report.device?.type).not.toBe('cuda');
    expect(report.student).toMatchObject({ id: 'sentence-transformers/all-MiniLM-L6-v2', loads: true, dimension: 384 });
    expect(report.teacher.configured).toBeNull();
    expect(report.teacher.note).toMatch(/teacher/);
    expect(typeof report.llm.local.available).toBe('boolean');
    if (!report.llm.local.available) expect(report.llm.local.note).toMatch(/models prepare --llm/);
  });

  it('names a broken Python as a problem with its fix, and exits 2', () => {
    const result = runCli(['doctor'], { ...home, SPECIALIZE_PYTHON: '/no/such/python' });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toMatch(/trainer\s+did not start/);
    expect(result.stdout).toMatch(/problem\(s\):\n {2}- Cannot start the trainer \(\/no\/such\/python -m specialize_trainer\.rpc\.server\).*Fix: .*SPECIALIZE_PYTHON/);
  });
});
