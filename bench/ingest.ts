/**
 * Ingestion throughput on a real open-source repository: scan + read + chunk alone (no embedding),
 * the whole index (scan, chunk, store, embed), peak RSS, and incremental re-indexing after edits.
 *
 *   node bench/run.js ingest [--reps 3] [--limit-files N] [--threads 2] [--chunk-only] [--json out.json]
 *
 * The repository is the Django 5.1.4 source distribution from PyPI (pinned by version and SHA-256),
 * fetched once with the project's .venv pip into bench/.cache/ingest and extracted afresh on every
 * run, so edits made by the incremental step never carry over. Chunking uses the default model's
 * real tokenizer budget, built exactly as `indexFolders` builds it. The whole index and the
 * re-index runs go through `indexFolders` in a child process (this bundle, forked), so their
 * timings and peak RSS owe nothing to the chunking runs before them. See bench/README.md.
 */
import { fork, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Embedder } from '../src/core/embed/embedder';
import { TextTokenizer } from '../src/core/embed/tokenize';
import { indexFolders, type IndexFoldersReport } from '../src/core/indexFolders';
import { chunkFile } from '../src/core/ingest/chunk';
import { collectPassages, listDecisions } from '../src/core/ingest/collectPassages';
import { readSourceFile, scanRoots } from '../src/core/ingest/scanner';
import { TokenBudget } from '../src/core/ingest/tokenBudget';
import type { ScanDecision } from '../src/core/ingest/types';
import { DEFAULT_MODEL_ID } from '../src/core/models/packaged';
import { resolveModel } from '../src/core/models/resolver';
import type { ProgressEvent } from '../src/core/progress';
import { packageRoot } from '../src/core/util/paths';
import { startClock, type Timing } from './clock';

/** The benchmarked repository: a PyPI source distribution, pinned by version and hash. */
const SOURCE = {
  name: 'django',
  version: '5.1.4',
  requirement: 'django==5.1.4',
  archive: 'Django-5.1.4.tar.gz',
  /** Top folder inside the archive. */
  folder: 'Django-5.1.4',
  sha256: 'de450c09e91879fa5a307f696e57c851955c910a438a35e6b4c895e86bedc82a',
};

/** Target for scan + read + chunk on 2 cores, in indexed files per second. */
const TARGET_FILES_PER_SECOND = 2000;


interface CollectRep extends Timing {
  files: number;
  passages: number;
}

interface KindStats {
  files: number;
  bytes: number;
  passages: number;
  readMs: number;
  chunkMs: number;
}

interface IndexRun {
  label: string;
  touchedFiles: number;
  seconds: number;
  /** Start → first "store passages" event: model, store and embedder opening, scan, read, chunk. */
  openAndCollectSeconds: number;
  /** Writing changed passages and deleting vanished ones, then reading id/hash of both tables. */
  storeSeconds: number;
  /** First to last "embed passages" event: reading texts, inference, writing vectors (all but the last batch). */
  embedSeconds: number;
  /** Last embed event → return: last vector write, ANN index, manifest, closing. */
  finishSeconds: number;
  cpuSeconds: number;
  otherCores: number | null;
  indexedFiles: number;
  passages: number;
  passagesAdded: number;
  passagesChanged: number;
  passagesRemoved: number;
  embedded: number;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      reps: { type: 'string', default: '3' },
      'limit-files': { type: 'string' },
      threads: { type: 'string', default: '2' },
      model: { type: 'string', default: DEFAULT_MODEL_ID },
      'chunk-only': { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  const reps = Math.max(1, Number(values.reps));
  const threads = Number(values.threads);
  const limitFiles = values['limit-files'] === undefined || values['limit-files'] === 'all' ? undefined : Number(values['limit-files']);
  if (limitFiles !== undefined && !(limitFiles > 0)) throw new Error('--limit-files takes a positive number or "all"');
  const loadStart = os.loadavg();
  const benchStarted = performance.now();

  const cacheDir = path.join(packageRoot(), 'bench', '.cache', 'ingest');
  const { root, workDir, packageFiles } = prepareSource(cacheDir);
  log(`${SOURCE.requirement}: ${packageFiles} files in ${root}`);

  // The budget exactly as WorkspaceIndex.open builds it.
  let started = performance.now();
  const model = await resolveModel(String(values.model));
  const resolveSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const tokenizer = TextTokenizer.fromModelDir(model.dir, model.conventions.maxSeqLength);
  const tokenizerSeconds = (performance.now() - started) / 1000;
  const probeBudget = new TokenBudget(tokenizer);

  // 1a. Scan only: the decisions, each file sniffed (first 8 KB), nothing read in full.
  const scanReps: (Timing & { decisions: number; files: number; indexed: number })[] = [];
  let decisions: ScanDecision[] = [];
  for (let rep = 0; rep < reps; rep += 1) {
    const timed = await timeIt(() => listDecisions([root], {}));
    decisions = timed.value;
    const files = decisions.filter((d) => d.kind === 'file');
    scanReps.push({ ...timed.timing, decisions: decisions.length, files: files.length, indexed: files.filter((d) => d.decision === 'index').length });
  }
  const skipped: Record<string, number> = {};
  for (const d of decisions) {
    if (d.decision !== 'skip') continue;
    const key = d.kind === 'directory' ? `folder: ${d.reason}` : d.reason;
    skipped[key] = (skipped[key] ?? 0) + 1;
  }
  log(`scan: ${scanReps.map((r) => r.seconds.toFixed(2)).join(', ')} s`);

  // 1b. Scan + read + chunk through collectPassages, a fresh budget each time (as every index run has).
  const collectReps: CollectRep[] = [];
  let peakRssAfterChunkMB = 0;
  let budget = new TokenBudget(tokenizer);
  for (let rep = 0; rep < reps; rep += 1) {
    budget = new TokenBudget(tokenizer);
    const timed = await timeIt(() => collectPassages([root], { budget }));
    collectReps.push({ ...timed.timing, files: timed.value.tally.indexedFiles, passages: timed.value.passages.length });
    // One collectPassages run, as an index run makes it (the scans before it peak far lower).
    if (rep === 0) peakRssAfterChunkMB = rssMB();
  }
  log(`scan+read+chunk: ${collectReps.map((r) => r.seconds.toFixed(2)).join(', ')} s`);
  // Once more with the last run's budget, whose per-word token counts are all cached by now: the
  // difference is what the cold cache costs that every index run starts with.
  const warm = await timeIt(() => collectPassages([root], { budget }));
  const warmCache: CollectRep = { ...warm.timing, files: warm.value.tally.indexedFiles, passages: warm.value.passages.length };

  // 1c. The same loop as collectPassages, timed per stage and per content kind.
  const split = await splitStages(root, new TokenBudget(tokenizer));
  log(`split: scan ${split.scanSeconds.toFixed(2)} s, read ${split.readSeconds.toFixed(2)} s, chunk ${split.chunkSeconds.toFixed(2)} s`);

  // 2 + 4. The whole index, then incremental re-indexing, through indexFolders, in a child process
  // of its own, so its peak RSS and timings owe nothing to the chunking runs above.
  const indexedPaths = decisions.filter((d) => d.kind === 'file' && d.decision === 'index').map((d) => d.path);
  const full = values['chunk-only'] ? undefined : await inChild({ root, workDir, indexedPaths, limitFiles, threads, modelId: String(values.model) });

  const median = <T>(items: T[], key: (item: T) => number) => {
    const sorted = items.map(key).sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 2)] as number;
  };
  const collectSeconds = median(collectReps, (r) => r.seconds);
  const last = collectReps[collectReps.length - 1] as CollectRep;
  const report: Report = {
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), node: process.version, loadavgStart: loadStart, loadavgEnd: os.loadavg() },
    repository: { ...SOURCE, packageFiles, root },
    model: { id: model.id, maxSeqLength: model.conventions.maxSeqLength, passageCapacity: probeBudget.capacity, exactPerWord: probeBudget.exactPerWord, resolveSeconds, tokenizerSeconds },
    scan: {
      reps: scanReps,
      medianSeconds: median(scanReps, (r) => r.seconds),
      filesPerSecond: (scanReps[0] as { files: number }).files / median(scanReps, (r) => r.seconds),
      skipped,
    },
    chunk: {
      reps: collectReps,
      medianSeconds: collectSeconds,
      firstSeconds: (collectReps[0] as CollectRep).seconds,
      indexedFiles: last.files,
      passages: last.passages,
      filesPerSecond: last.files / collectSeconds,
      passagesPerSecond: last.passages / collectSeconds,
      megabytesPerSecond: split.bytes / 1e6 / collectSeconds,
      warmCache,
      target: TARGET_FILES_PER_SECOND,
      pass: last.files / collectSeconds >= TARGET_FILES_PER_SECOND,
      split,
    },
    full,
    threads,
    peakRssAfterChunkMB,
    peakRssMB: rssMB(),
    runtimeSeconds: (performance.now() - benchStarted) / 1000,
  };
  printReport(report);
  if (values.json) fs.writeFileSync(String(values.json), `${JSON.stringify(report, null, 2)}\n`);
}

/** Downloads the sdist once (pip, no build, no dependencies), checks its hash, extracts it afresh. */
function prepareSource(cacheDir: string): { root: string; workDir: string; packageFiles: number } {
  fs.mkdirSync(cacheDir, { recursive: true });
  const archive = path.join(cacheDir, SOURCE.archive);
  if (!fs.existsSync(archive)) {
    const python = path.join(packageRoot(), '.venv', 'bin', 'python');
    if (!fs.existsSync(python)) throw new Error(`${python} is missing: run \`npm run setup\` first.`);
    log(`downloading ${SOURCE.requirement} (source distribution) into ${cacheDir}`);
    const pip = spawnSync(python, ['-m', 'pip', 'download', '--no-deps', '--no-binary', ':all:', SOURCE.requirement, '-d', cacheDir], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (pip.status !== 0 || !fs.existsSync(archive)) throw new Error(`pip download ${SOURCE.requirement} failed (exit ${pip.status}); expected ${archive}`);
  }
  const digest = createHash('sha256').update(fs.readFileSync(archive)).digest('hex');
  if (digest !== SOURCE.sha256) throw new Error(`${archive} has SHA-256 ${digest}, expected ${SOURCE.sha256}; delete it to download again.`);
  const workDir = path.join(cacheDir, 'work');
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(workDir, { recursive: true });
  const tar = spawnSync('tar', ['-xzf', archive, '-C', workDir], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (tar.status !== 0) throw new Error(`tar could not extract ${archive} (exit ${tar.status})`);
  const root = path.join(workDir, SOURCE.folder);
  const packageFiles = fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).length;
  return { root, workDir, packageFiles };
}

/** collectPassages' loop with a clock around each stage; per-kind totals and the slowest files. */
async function splitStages(root: string, budget: TokenBudget) {
  let scanMs = 0;
  let readMs = 0;
  let chunkMs = 0;
  let bytes = 0;
  let files = 0;
  let passages = 0;
  let tokens = 0;
  let overCapacity = 0;
  const kinds: Record<string, KindStats> = {};
  /** Where the passages (and so the embedding work) come from, by file extension. */
  const extensions: Record<string, { files: number; passages: number; tokens: number }> = {};
  const slowest: { path: string; kind: string; bytes: number; passages: number; ms: number }[] = [];
  const started = performance.now();
  const iterator = scanRoots([root], {});
  for (;;) {
    let t0 = performance.now();
    const next = await iterator.next();
    scanMs += performance.now() - t0;
    if (next.done) break;
    const decision = next.value;
    if (decision.decision !== 'index') continue;
    t0 = performance.now();
    const source = await readSourceFile(decision, {});
    const readTook = performance.now() - t0;
    readMs += readTook;
    if ('decision' in source) continue;
    t0 = performance.now();
    const chunks = budget.enforce(await chunkFile(source, { maxTokens: budget.chunkLimit, countTokens: budget.count }));
    const chunkTook = performance.now() - t0;
    chunkMs += chunkTook;
    const kind = decision.reason;
    const size = Buffer.byteLength(source.text);
    const stats = (kinds[kind] ??= { files: 0, bytes: 0, passages: 0, readMs: 0, chunkMs: 0 });
    stats.files += 1;
    stats.bytes += size;
    stats.passages += chunks.length;
    stats.readMs += readTook;
    stats.chunkMs += chunkTook;
    files += 1;
    bytes += size;
    passages += chunks.length;
    slowest.push({ path: decision.path, kind, bytes: size, passages: chunks.length, ms: chunkTook });
    slowest.sort((a, b) => b.ms - a.ms);
    slowest.length = Math.min(slowest.length, 8);
    // Outside the clocks: the token sizes the embedder will see (the budget counts exactly for WordPiece).
    const extension = (extensions[path.extname(decision.path).toLowerCase() || path.basename(decision.path)] ??= { files: 0, passages: 0, tokens: 0 });
    extension.files += 1;
    extension.passages += chunks.length;
    for (const chunk of chunks) {
      const count = budget.count(chunk.text);
      tokens += count;
      extension.tokens += count;
      if (count > budget.capacity) overCapacity += 1;
    }
  }
  const totalMs = performance.now() - started;
  return {
    seconds: totalMs / 1000,
    scanSeconds: scanMs / 1000,
    readSeconds: readMs / 1000,
    chunkSeconds: chunkMs / 1000,
    files,
    bytes,
    passages,
    tokens,
    meanPassageTokens: tokens / Math.max(1, passages),
    passagesOverCapacity: overCapacity,
    kinds,
    extensions,
    slowest,
  };
}

interface FullIndexOptions {
  root: string;
  workDir: string;
  /** Root-relative paths of the files the scan indexes, in scan order. */
  indexedPaths: string[];
  limitFiles: number | undefined;
  threads: number;
  modelId: string;
}

/** Env var that makes this bundle, forked, run the whole-index part and send its result back. */
const CHILD_ENV = 'SPECIALIZE_BENCH_INGEST_CHILD';

/** Runs `fullIndex` in a forked copy of this bundle. */
function inChild(options: FullIndexOptions): Promise<FullResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [], { env: { ...process.env, [CHILD_ENV]: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: FullResult | undefined;
    child.on('message', (message: { result?: FullResult; error?: string }) => {
      if (message.error) reject(new Error(`whole-index child: ${message.error}`));
      else result = message.result;
    });
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`whole-index child exited with ${code} and no result`))));
    child.send(options);
  });
}

if (process.env[CHILD_ENV] === '1' && process.send) {
  process.setSourceMapsEnabled(true);
  process.once('message', (options: FullIndexOptions) => {
    fullIndex(options).then(
      (result) => process.send?.({ result }, undefined, undefined, () => process.exit(0)),
      (error: unknown) => process.send?.({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, undefined, undefined, () => process.exit(1)),
    );
  });
}

async function fullIndex(options: FullIndexOptions) {
  const indexed = options.indexedPaths;
  // The model, its budget (for the token total) and the embedder start, timed alone.
  const model = await resolveModel(options.modelId);
  const budget = new TokenBudget(TextTokenizer.fromModelDir(model.dir, model.conventions.maxSeqLength));
  const started = performance.now();
  const embedder = await Embedder.create({ model, precision: 'fp32', threads: options.threads });
  const embedderStartSeconds = (performance.now() - started) / 1000;
  await embedder.close();
  // A limit takes evenly spaced files (in scan order), so the sample keeps the repository's mix of
  // code, docs and translations; they are copied, with their paths, into a folder of their own.
  let indexRoot = options.root;
  let files = indexed;
  if (options.limitFiles !== undefined && options.limitFiles < indexed.length) {
    files = spread(indexed, options.limitFiles);
    indexRoot = path.join(options.workDir, `sample-${files.length}`);
    for (const file of files) {
      const target = path.join(indexRoot, file);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(path.join(options.root, file), target);
    }
  }
  const rssBeforeIndexMB = rssMB();
  const storeDir = path.join(options.workDir, 'store');
  fs.rmSync(storeDir, { recursive: true, force: true });
  const run = (label: string, touchedFiles: number) => timedIndex(label, touchedFiles, { folders: [indexRoot], storeDir, model: options.modelId, precision: 'fp32', threads: options.threads });

  log(`whole index of ${files.length} files (${options.threads} threads, fp32)…`);
  const runs: IndexRun[] = [await run('whole index', files.length)];
  const first = runs[0] as IndexRun;
  log(`whole index: ${first.seconds.toFixed(1)} s`);
  const peakRssAfterIndexMB = rssMB();
  const diskMB = folderBytes(storeDir) / 1e6;
  // The tokens the embedder saw: the same files chunked again, untimed, before any is touched.
  const tokens = (await collectPassages([indexRoot], { budget })).passages.reduce((sum, passage) => sum + budget.count(passage.text), 0);
  runs.push(await run('re-index, nothing changed', 0));
  // Touched files: evenly spaced, the single one apart from the hundred, none of them JSON (where
  // an appended line would break the format rather than edit the content).
  const editable = files.filter((file) => !/\.(json|ipynb)$/i.test(file));
  const single = editable[Math.floor(editable.length / 2)] as string;
  const hundred = spread(
    editable.filter((file) => file !== single),
    Math.min(100, editable.length - 1),
  );
  for (const [label, touched] of [
    ['re-index after touching 1 file', [single]],
    [`re-index after touching ${hundred.length} files`, hundred],
  ] as const) {
    for (const file of touched) appendLine(path.join(indexRoot, file));
    runs.push(await run(label, touched.length));
    log(`${label}: ${(runs[runs.length - 1] as IndexRun).seconds.toFixed(1)} s`);
  }
  return {
    sampled: indexRoot !== options.root,
    limitFiles: options.limitFiles ?? null,
    files: files.length,
    passages: first.passages,
    tokens,
    diskMB,
    embedderStartSeconds,
    filesPerSecond: files.length / first.seconds,
    passagesPerSecond: first.passages / first.seconds,
    embedPassagesPerSecond: first.embedded / first.embedSeconds,
    embedTokensPerSecond: tokens / first.embedSeconds,
    embedShare: first.embedSeconds / first.seconds,
    rssBeforeIndexMB,
    peakRssAfterIndexMB,
    peakRssMB: rssMB(),
    runs,
  };
}

/** One indexFolders call, with stage boundaries taken from its progress events. */
async function timedIndex(label: string, touchedFiles: number, options: Parameters<typeof indexFolders>[0]): Promise<IndexRun> {
  const firstAt: Record<string, number> = {};
  const lastAt: Record<string, number> = {};
  let lastLog = performance.now();
  const onProgress = (event: ProgressEvent) => {
    const now = performance.now();
    firstAt[event.stage] ??= now;
    lastAt[event.stage] = now;
    if (now - lastLog > 30_000) {
      lastLog = now;
      log(`${label}: ${event.stage} ${event.done}/${event.total || '?'}`);
    }
  };
  const started = performance.now();
  const clock = startClock();
  const result: IndexFoldersReport = await indexFolders({ ...options, onProgress });
  const { cpuSeconds, otherCores } = clock();
  const ended = performance.now();
  const storeAt = firstAt['store passages'] ?? ended;
  const embedAt = firstAt['embed passages'] ?? ended;
  const embedEnd = lastAt['embed passages'] ?? embedAt;
  return {
    label,
    touchedFiles,
    seconds: (ended - started) / 1000,
    openAndCollectSeconds: (storeAt - started) / 1000,
    storeSeconds: (embedAt - storeAt) / 1000,
    embedSeconds: (embedEnd - embedAt) / 1000,
    finishSeconds: (ended - embedEnd) / 1000,
    cpuSeconds,
    otherCores,
    indexedFiles: result.scan.indexedFiles,
    passages: result.passageCount,
    passagesAdded: result.passages.added,
    passagesChanged: result.passages.changed,
    passagesRemoved: result.passages.removed,
    embedded: result.vectors.embedded,
  };
}

/** `count` items spread evenly over `items`, in order. */
function spread<T>(items: readonly T[], count: number): T[] {
  if (count >= items.length) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor(((i + 0.5) * items.length) / count)] as T);
}

/** Appends one line, as a comment where the format has one, so the file's hash (and last passage) changes. */
function appendLine(file: string): void {
  const text = 'edited by the Specialize ingestion benchmark';
  const ext = path.extname(file).toLowerCase();
  const line = ['.py', '.po', '.sh', '.cfg', '.toml', '.ini', '.yml', '.yaml', '.py-tpl'].includes(ext)
    ? `# ${text}`
    : ['.js', '.mjs', '.ts', '.c', '.h', '.java', '.go', '.rs'].includes(ext)
      ? `// ${text}`
      : ext === '.css'
        ? `/* ${text} */`
        : ['.html', '.xml', '.svg'].includes(ext)
          ? `<!-- ${text} -->`
          : `${text[0]?.toUpperCase()}${text.slice(1)}.`;
  const current = fs.readFileSync(file, 'utf8');
  fs.appendFileSync(file, `${current.endsWith('\n') ? '' : '\n'}${line}\n`);
}

async function timeIt<T>(work: () => Promise<T>): Promise<{ value: T; timing: Timing }> {
  const clock = startClock();
  const value = await work();
  return { value, timing: clock() };
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** Peak resident memory of this process so far, MB. */
function rssMB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

function log(message: string): void {
  process.stderr.write(`  ${message}\n`);
}

type SplitResult = Awaited<ReturnType<typeof splitStages>>;
type FullResult = Awaited<ReturnType<typeof fullIndex>>;

interface Report {
  machine: { cpu: string; cores: number; node: string; loadavgStart: number[]; loadavgEnd: number[] };
  repository: typeof SOURCE & { packageFiles: number; root: string };
  model: { id: string; maxSeqLength: number; passageCapacity: number; exactPerWord: boolean; resolveSeconds: number; tokenizerSeconds: number };
  scan: { reps: (Timing & { decisions: number; files: number; indexed: number })[]; medianSeconds: number; filesPerSecond: number; skipped: Record<string, number> };
  chunk: {
    reps: CollectRep[];
    medianSeconds: number;
    firstSeconds: number;
    indexedFiles: number;
    passages: number;
    filesPerSecond: number;
    passagesPerSecond: number;
    megabytesPerSecond: number;
    warmCache: CollectRep;
    target: number;
    pass: boolean;
    split: SplitResult;
  };
  full: FullResult | undefined;
  threads: number;
  peakRssAfterChunkMB: number;
  peakRssMB: number;
  runtimeSeconds: number;
}

/** Other processes' average busy cores above which a measurement is flagged. */
const NOISY_OTHER_CORES = 0.15;

function printReport(r: Report): void {
  const s = (seconds: number) => seconds.toFixed(2);
  const rate = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const other = (items: { otherCores: number | null }[]) => {
    const known = items.flatMap((item) => (item.otherCores === null ? [] : [item.otherCores]));
    return known.length ? Math.max(...known).toFixed(2) : '?';
  };
  const noisy: string[] = [];
  const lines: string[] = [];
  lines.push(`Ingestion — ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}; load average ${load(r.machine.loadavgStart)} at start, ${load(r.machine.loadavgEnd)} at end`);
  const skippedFiles = r.scan.reps[0] ? r.scan.reps[0].files - r.scan.reps[0].indexed : 0;
  lines.push(`Repository: ${r.repository.name} ${r.repository.version} (PyPI sdist ${r.repository.archive}, sha256 ${r.repository.sha256.slice(0, 12)}…), ${r.repository.packageFiles} files: ${r.chunk.indexedFiles} indexed, ${skippedFiles} skipped`);
  lines.push(`Skipped: ${Object.entries(r.scan.skipped).sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${reason} ${n}`).join(', ')}`);
  lines.push(`Model: ${r.model.id} (passage capacity ${r.model.passageCapacity} tokens, per-word counts ${r.model.exactPerWord ? 'exact' : 'approximate'}); resolve ${s(r.model.resolveSeconds)} s, tokenizer load ${s(r.model.tokenizerSeconds)} s`);
  lines.push('');
  lines.push('## Scan and chunk (no embedding)');
  lines.push('');
  lines.push('| stage | median s | reps s | CPU s (last rep) | other cores | files/s | passages/s | MB/s |');
  lines.push('|---|---:|---|---:|---:|---:|---:|---:|');
  const reps = (items: Timing[]) => items.map((x) => s(x.seconds)).join(', ');
  const lastCpu = (items: Timing[]) => s((items[items.length - 1] as Timing).cpuSeconds);
  lines.push(`| scan only (decisions, 8 KB sniff) | ${s(r.scan.medianSeconds)} | ${reps(r.scan.reps)} | ${lastCpu(r.scan.reps)} | ${other(r.scan.reps)} | ${rate(r.scan.filesPerSecond)} (all files) | | |`);
  lines.push(
    `| scan + read + chunk (collectPassages) | ${s(r.chunk.medianSeconds)} | ${reps(r.chunk.reps)} | ${lastCpu(r.chunk.reps)} | ${other(r.chunk.reps)} | **${rate(r.chunk.filesPerSecond)}** (indexed) | ${rate(r.chunk.passagesPerSecond)} | ${r.chunk.megabytesPerSecond.toFixed(1)} |`,
  );
  const w = r.chunk.warmCache;
  lines.push(`| the same, word-count cache already warm | ${s(w.seconds)} | | ${s(w.cpuSeconds)} | ${other([w])} | ${rate(w.files / w.seconds)} | ${rate(w.passages / w.seconds)} | ${(r.chunk.split.bytes / 1e6 / w.seconds).toFixed(1)} |`);
  // Chunking uses one core, so only more than one busy core elsewhere slows it on two.
  if (Number(other(r.chunk.reps)) > 1 - NOISY_OTHER_CORES) noisy.push(`other processes kept up to ${other(r.chunk.reps)} cores busy while chunking`);
  lines.push('');
  lines.push(`Target ≥ ${r.chunk.target} indexed files/s: ${r.chunk.pass ? 'PASS' : 'FAIL'}. ${r.chunk.indexedFiles} files → ${r.chunk.passages} passages (mean ${r.chunk.split.meanPassageTokens.toFixed(0)} tokens; ${r.chunk.split.passagesOverCapacity} over capacity), ${(r.chunk.split.bytes / 1e6).toFixed(1)} MB. First run ${s(r.chunk.firstSeconds)} s (loads the tree-sitter grammars).`);
  const sp = r.chunk.split;
  const pct = (x: number) => `${((100 * x) / sp.seconds).toFixed(0)}%`;
  lines.push(`Split (one more run, per-stage clocks): scan ${s(sp.scanSeconds)} s (${pct(sp.scanSeconds)}), read ${s(sp.readSeconds)} s (${pct(sp.readSeconds)}), chunk ${s(sp.chunkSeconds)} s (${pct(sp.chunkSeconds)}) of ${s(sp.seconds)} s`);
  lines.push('');
  lines.push('| content kind | files | MB | passages | read ms | chunk ms | chunk ms/file | files/s (read+chunk) |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [kind, k] of Object.entries(sp.kinds).sort((a, b) => b[1].chunkMs - a[1].chunkMs)) {
    lines.push(`| ${kind} | ${k.files} | ${(k.bytes / 1e6).toFixed(2)} | ${k.passages} | ${k.readMs.toFixed(0)} | ${k.chunkMs.toFixed(0)} | ${(k.chunkMs / k.files).toFixed(2)} | ${rate((1000 * k.files) / (k.readMs + k.chunkMs))} |`);
  }
  lines.push('');
  const topExtensions = Object.entries(sp.extensions)
    .sort((a, b) => b[1].tokens - a[1].tokens)
    .slice(0, 6)
    .map(([extension, e]) => `${extension} ${e.files} files, ${e.passages} passages, ${((100 * e.tokens) / sp.tokens).toFixed(0)}% of tokens`);
  lines.push(`Embedding work by extension: ${topExtensions.join('; ')}`);
  lines.push(`Slowest files to chunk: ${sp.slowest.map((f) => `${f.path} (${f.kind}, ${(f.bytes / 1e3).toFixed(0)} KB, ${f.passages} passages, ${f.ms.toFixed(0)} ms)`).join('; ')}`);
  if (r.full) {
    const f = r.full;
    const first = f.runs[0] as IndexRun;
    lines.push('');
    lines.push(`## Whole index (indexFolders: scan, chunk, store, embed; ${f.sampled ? `a sample of ${f.files} evenly spaced files, --limit-files ${f.limitFiles}` : `all ${f.files} indexed files`}; fp32, ${r.threads} threads)`);
    lines.push('');
    lines.push(`${f.files} files → ${f.passages} passages, ${f.tokens} tokens; store ${f.diskMB.toFixed(1)} MB on disk. Embedder start alone (worker + ONNX session): ${s(f.embedderStartSeconds)} s.`);
    lines.push('');
    lines.push('| run | total s | open + scan + chunk s | store s | embed s | finish s | CPU s | other cores | passages added / changed / removed | re-embedded |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const run of f.runs) {
      lines.push(
        `| ${run.label} | ${s(run.seconds)} | ${s(run.openAndCollectSeconds)} | ${s(run.storeSeconds)} | ${s(run.embedSeconds)} | ${s(run.finishSeconds)} | ${s(run.cpuSeconds)} | ${other([run])} | ${run.passagesAdded} / ${run.passagesChanged} / ${run.passagesRemoved} | ${run.embedded} |`,
      );
    }
    if (first.otherCores !== null && first.otherCores > NOISY_OTHER_CORES) noisy.push(`other processes kept ${first.otherCores.toFixed(2)} cores busy during the whole index (embedding uses every core)`);
    const rest = first.seconds - first.embedSeconds;
    lines.push('');
    lines.push(
      `Whole index: **${rate(f.filesPerSecond)} files/s, ${rate(f.passagesPerSecond)} passages/s**. Embedding: ${s(first.embedSeconds)} of ${s(first.seconds)} s (**${(100 * f.embedShare).toFixed(1)}%**), ${rate(f.embedPassagesPerSecond)} passages/s, ${rate(f.embedTokensPerSecond)} tokens/s; everything else ${s(rest)} s (${rate(f.files / rest)} files/s).`,
    );
    if (f.sampled) lines.push(`Re-index runs scan and chunk the ${f.files}-file sample only; on all ${r.chunk.indexedFiles} files each re-index also pays a full scan + read + chunk (${s(r.chunk.medianSeconds)} s above).`);
  }
  lines.push('');
  lines.push(`Peak RSS: scan + read + chunk of all ${r.chunk.indexedFiles} files (one collectPassages run in the benchmark process): ${r.peakRssAfterChunkMB} MB.`);
  if (r.full) {
    lines.push(
      `Peak RSS of the whole-index process (a child process; ${r.full.files} files): ${r.full.rssBeforeIndexMB} MB with the model loaded (embedder started and closed once), ${r.full.peakRssAfterIndexMB} MB after the whole index, ${r.full.peakRssMB} MB after the re-index runs.`,
    );
  }
  if (noisy.length) lines.push('', `NOISY RUN: ${noisy.join('; ')}. Rerun on an idle machine.`);
  lines.push('', `Benchmark runtime ${r.runtimeSeconds.toFixed(0)} s.`);
  console.log(lines.join('\n'));
}
