// Builds one benchmark from bench/*.ts with esbuild (like esbuild.js builds the app) and runs it:
//
//   node bench/run.js embed [--threads 2] [--passages 256] [--reps 3] [--json out.json]
//
// Output goes to dist/bench/. The embedding worker is bundled beside the benchmark, so a benchmark
// always runs the worker of the current sources (embedWorkerScript() prefers the file beside it).
/* global require, process, console, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports */
const path = require('node:path');
const esbuild = require('esbuild');

/** Benchmark name → entry point. Each entry exports `main(args: string[]): Promise<void>`. */
const BENCHMARKS = {
  embed: 'bench/embedThroughput.ts',
  latency: 'bench/searchLatency.ts',
  ingest: 'bench/ingest.ts',
  synth: 'bench/synth.ts',
};

const root = path.resolve(__dirname, '..');
const outdir = path.join(root, 'dist', 'bench');
/** Packages with native binaries (or peers of them) that cannot be bundled; as in esbuild.js. */
const nativeExternals = ['onnxruntime-node', '@lancedb/lancedb', 'apache-arrow', '@parcel/watcher', 'node-llama-cpp'];

async function main() {
  const [name, ...args] = process.argv.slice(2);
  const entry = BENCHMARKS[name];
  if (!entry) {
    console.error(`usage: node bench/run.js <${Object.keys(BENCHMARKS).join('|')}> [options]  (see bench/README.md)`);
    process.exit(2);
  }
  const common = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'warning',
    external: nativeExternals,
    outdir,
  };
  await Promise.all([esbuild.build({ ...common, entryPoints: { [name]: entry } }), esbuild.build({ ...common, entryPoints: { embedWorker: 'src/core/embed/worker.ts' } })]);
  process.setSourceMapsEnabled(true);
  const benchmark = require(path.join(outdir, `${name}.js`));
  await benchmark.main(args);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
