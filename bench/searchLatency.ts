/**
 * Search latency at realistic index sizes: p50/p99 per query *including* query embedding, for
 * dense, BM25 and hybrid search, plus index build time, disk size and peak RSS.
 *
 *   node bench/run.js latency [--sizes 10000,100000] [--queries 200] [--threads 2] [--json out.json]
 *
 * Passages are built deterministically from the sentences of the development collections
 * (cranfield, med): each passage joins two sentences drawn with a seeded generator, so the text,
 * vocabulary and length distribution are real and the passages are distinct. Every passage is
 * embedded for real with the default model (that takes minutes at 100k); built stores are kept in
 * bench/.cache and reused, so later runs measure search only. Queries are the collections' human
 * queries, cycled.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Embedder } from '../src/core/embed/embedder';
import { DEFAULT_MODEL_ID } from '../src/core/models/packaged';
import { resolveModel } from '../src/core/models/resolver';
import { Searcher, type SearchMode } from '../src/core/search/searcher';
import { Store, type PassageInput } from '../src/core/store/store';
import { packageRoot } from '../src/core/util/paths';

interface SizeResult {
  passages: number;
  build: { passagesSeconds: number; embedSeconds: number; vectorIndexSeconds: number; bm25BuildSeconds: number; reused: boolean };
  diskMB: number;
  vectorIndex: string;
  /** Share of the exact top 10 that the (ANN) dense search returns, over the queries. */
  annRecallAt10: number;
  latencyMs: Record<SearchMode, { p50: number; p99: number; mean: number }>;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '10000,100000' },
      queries: { type: 'string', default: '200' },
      threads: { type: 'string', default: String(os.availableParallelism()) },
      model: { type: 'string', default: DEFAULT_MODEL_ID },
      datasets: { type: 'string', default: path.resolve(packageRoot(), '..', 'shared', 'datasets') },
      json: { type: 'string' },
    },
  });
  const sizes = String(values.sizes).split(',').map(Number);
  const queryCount = Number(values.queries);
  const threads = Number(values.threads);
  const { sentences, queries } = loadCollections(String(values.datasets));
  const model = await resolveModel(String(values.model));
  const embedder = await Embedder.create({ model, threads });
  const results: SizeResult[] = [];
  try {
    for (const size of sizes) results.push(await benchmarkSize(size, sentences, queries.slice(0, queryCount), embedder));
  } finally {
    await embedder.close();
  }
  const report = {
    machine: { cpu: cpuModel(), cores: os.availableParallelism(), node: process.version, threads },
    model: { id: model.id, version: embedder.version },
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    results,
  };
  printReport(report);
  if (values.json) fs.writeFileSync(String(values.json), `${JSON.stringify(report, null, 2)}\n`);
}

async function benchmarkSize(size: number, sentences: string[], queries: string[], embedder: Embedder): Promise<SizeResult> {
  const dir = path.join(packageRoot(), 'bench', '.cache', `latency-${size}-${embedder.version}`);
  const reused = fs.existsSync(path.join(dir, 'store.json'));
  const store = await Store.open(dir, { create: true });
  try {
    let started = performance.now();
    await store.syncPassages(makePassages(size, sentences));
    const passagesSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    let lastLog = 0;
    const vectors = await store.syncVectors(embedder, embedder.model.id, {
      onProgress: (event) => {
        if (performance.now() - lastLog > 10_000) {
          lastLog = performance.now();
          process.stderr.write(`  ${size}: ${event.stage} ${event.done}/${event.total}\n`);
        }
      },
    });
    const syncSeconds = (performance.now() - started) / 1000;
    const vectorIndex = (await store.vectorIndexType(embedder.version)) ?? 'none (exact search)';
    const searcher = new Searcher(store, embedder);
    started = performance.now();
    await searcher.rank('warm up the lexical index', { mode: 'bm25', k: 10 });
    const bm25BuildSeconds = (performance.now() - started) / 1000;

    const vectorsOfQueries = await embedder.embed(queries, 'query');
    let found = 0;
    for (const vector of vectorsOfQueries) {
      const exact = new Set((await store.searchDense(embedder.version, vector, 10, { exact: true })).map((r) => r.id));
      found += (await store.searchDense(embedder.version, vector, 10)).filter((r) => exact.has(r.id)).length;
    }
    const annRecallAt10 = found / (10 * vectorsOfQueries.length);

    const latencyMs = {} as SizeResult['latencyMs'];
    for (const mode of ['dense', 'bm25', 'hybrid'] as const) {
      for (const query of queries.slice(0, 10)) await searcher.search(query, { mode, k: 10 });
      const times: number[] = [];
      for (const query of queries) {
        const t0 = performance.now();
        await searcher.search(query, { mode, k: 10 });
        times.push(performance.now() - t0);
      }
      latencyMs[mode] = summarize(times);
    }
    return {
      passages: size,
      build: { passagesSeconds, embedSeconds: syncSeconds - vectors.indexSeconds, vectorIndexSeconds: vectors.indexSeconds, bm25BuildSeconds, reused },
      diskMB: (await store.diskBytes()) / 1e6,
      vectorIndex,
      annRecallAt10,
      latencyMs,
    };
  } finally {
    store.close();
  }
}

/** Deterministic passages of two sentences each, drawn with a seeded generator. */
function makePassages(size: number, sentences: string[]): PassageInput[] {
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  return Array.from({ length: size }, (_, i) => {
    const text = [0, 1].map(() => sentences[Math.floor(next() * sentences.length)]).join(' ');
    return { id: `p${i}`, root: 'bench', path: `p${i}.txt`, text };
  });
}

function loadCollections(datasets: string): { sentences: string[]; queries: string[] } {
  const sentences: string[] = [];
  const queries: string[] = [];
  for (const name of ['cranfield', 'med']) {
    const dir = path.join(datasets, name);
    if (!fs.existsSync(dir)) throw new Error(`${dir} is missing; pass --datasets <folder holding cranfield/ and med/>.`);
    for (const line of fs.readFileSync(path.join(dir, 'corpus.jsonl'), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const doc = JSON.parse(line) as { text: string };
      for (const sentence of doc.text.split(/(?<=[.!?])\s+/)) if (sentence.length > 20) sentences.push(sentence.trim());
    }
    for (const line of fs.readFileSync(path.join(dir, 'queries.jsonl'), 'utf8').split('\n')) {
      if (line.trim()) queries.push((JSON.parse(line) as { text: string }).text);
    }
  }
  // Interleave so any prefix mixes both collections.
  const mixed = queries.map((_, i) => queries[(i * 7) % queries.length] as string);
  while (mixed.length < 1000) mixed.push(...mixed);
  return { sentences, queries: mixed };
}

function summarize(times: number[]): { p50: number; p99: number; mean: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return { p50: at(0.5), p99: at(0.99), mean: times.reduce((a, b) => a + b, 0) / times.length };
}

function cpuModel(): string {
  return os.cpus()[0]?.model ?? 'unknown';
}

function printReport(report: { machine: Record<string, unknown>; model: { id: string; version: string }; peakRssMB: number; results: SizeResult[] }): void {
  const lines = [`Search latency — ${report.machine.cpu}, ${report.machine.cores} cores, ${report.machine.node}, ${report.model.id} (${report.model.version}), peak RSS ${report.peakRssMB} MB`, ''];
  lines.push('| passages | vector index | recall@10 vs exact | dense p50 / p99 ms | BM25 p50 / p99 ms | hybrid p50 / p99 ms | disk MB | store s | embed s | ANN index s | BM25 load s |');
  // "cached": the store was built by an earlier run (bench/.cache), so only search was measured.
  lines.push('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of report.results) {
    const cell = (mode: SearchMode) => `${r.latencyMs[mode].p50.toFixed(1)} / ${r.latencyMs[mode].p99.toFixed(1)}`;
    lines.push(`| ${r.passages} | ${r.vectorIndex} | ${r.annRecallAt10.toFixed(3)} | ${cell('dense')} | ${cell('bm25')} | ${cell('hybrid')} | ${r.diskMB.toFixed(0)} | ${r.build.reused ? 'cached' : r.build.passagesSeconds.toFixed(1)} | ${r.build.reused ? 'cached' : r.build.embedSeconds.toFixed(0)} | ${r.build.vectorIndexSeconds.toFixed(1)} | ${r.build.bm25BuildSeconds.toFixed(2)} |`);
  }
  console.log(lines.join('\n'));
}
