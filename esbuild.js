// Bundles the extension, the CLI and the embedding worker (Node), and the webview app (browser).
// Native packages stay external: they ship prebuilt binaries that must be loaded from node_modules.
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Packages with native binaries (or peers of them) that cannot be bundled. */
const nativeExternals = ['onnxruntime-node', '@lancedb/lancedb', 'apache-arrow', '@parcel/watcher', 'node-llama-cpp'];

/** Prints esbuild problems in the `file:line:col: error:` form the VS Code problem matcher reads. */
const problemMatcherPlugin = {
  name: 'problem-matcher',
  setup(build) {
    build.onStart(() => {
      if (watch) console.log('[watch] build started');
    });
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      if (watch) console.log('[watch] build finished');
    });
  },
};

const nodeCommon = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'silent',
  plugins: [problemMatcherPlugin],
};

const builds = [
  { ...nodeCommon, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode', ...nativeExternals] },
  { ...nodeCommon, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js', external: nativeExternals },
  { ...nodeCommon, entryPoints: ['src/core/embed/worker.ts'], outfile: 'dist/embedWorker.js', external: nativeExternals },
  // The search view runs in the webview (a browser), not in Node.
  { ...nodeCommon, platform: 'browser', target: 'es2022', format: 'iife', entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js' },
];

/** Grammars the code chunker parses with (src/core/ingest/chunk/code/languages.ts). */
const TREE_SITTER_GRAMMARS = ['typescript', 'tsx', 'javascript', 'python', 'go', 'rust', 'java', 'c', 'cpp', 'c_sharp'];

/**
 * The tree-sitter runtime and grammars are .wasm files read at run time; they go next to the
 * bundles (dist/tree-sitter) so an installed extension needs no node_modules for them.
 */
function copyTreeSitterWasm() {
  const out = path.join(__dirname, 'dist', 'tree-sitter');
  fs.mkdirSync(out, { recursive: true });
  fs.copyFileSync(require.resolve('web-tree-sitter/web-tree-sitter.wasm'), path.join(out, 'web-tree-sitter.wasm'));
  const grammars = path.join(path.dirname(require.resolve('@repomix/tree-sitter-wasms/package.json')), 'out');
  for (const name of TREE_SITTER_GRAMMARS) fs.copyFileSync(path.join(grammars, `tree-sitter-${name}.wasm`), path.join(out, `tree-sitter-${name}.wasm`));
}

async function main() {
  copyTreeSitterWasm();
  const contexts = await Promise.all(builds.map((options) => esbuild.context(options)));
  if (watch) {
    await Promise.all(contexts.map((ctx) => ctx.watch()));
    return;
  }
  const results = await Promise.allSettled(contexts.map((ctx) => ctx.rebuild()));
  await Promise.all(contexts.map((ctx) => ctx.dispose()));
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length > 0) process.exit(1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
