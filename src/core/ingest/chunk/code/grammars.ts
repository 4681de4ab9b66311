import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { Parser } from 'web-tree-sitter';
import type { GrammarName } from './languages';

type TreeSitter = typeof import('web-tree-sitter');

/**
 * Folder, next to the bundle (dist/), that the build copies the tree-sitter runtime and grammar
 * .wasm files into, so an installed extension needs no node_modules for them.
 */
export const BUNDLED_WASM_FOLDER = 'tree-sitter';
/** The tree-sitter runtime itself, from the web-tree-sitter package. */
export const RUNTIME_WASM = 'web-tree-sitter.wasm';
/** npm package that ships the grammars, in its `out/` folder. */
export const GRAMMAR_PACKAGE = '@repomix/tree-sitter-wasms';

export function grammarWasmFile(grammar: GrammarName): string {
  return `tree-sitter-${grammar}.wasm`;
}

/**
 * Folders searched for .wasm files, in order: next to the running bundle (dist/tree-sitter), then
 * the npm packages as Node resolves them from here (sources run by tests, or a bundle whose copy
 * step did not run).
 */
export function wasmSearchFolders(): string[] {
  const folders = [path.join(__dirname, BUNDLED_WASM_FOLDER)];
  const localRequire = createRequire(__filename);
  const resolveFolder = (request: string, subfolder = '') => {
    try {
      folders.push(path.join(path.dirname(localRequire.resolve(request)), subfolder));
    } catch {
      // Not installed here: the bundled copy is the only chance.
    }
  };
  resolveFolder('web-tree-sitter');
  resolveFolder(`${GRAMMAR_PACKAGE}/package.json`, 'out');
  return folders;
}

/** First existing `fileName` in the search folders. */
export function resolveWasmFile(fileName: string, folders: readonly string[] = wasmSearchFolders()): string | undefined {
  for (const folder of folders) {
    const candidate = path.join(folder, fileName);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

let runtime: Promise<TreeSitter> | undefined;
const parsers = new Map<GrammarName, Promise<Parser | undefined>>();
const loadErrors = new Map<GrammarName, string>();

/**
 * A parser for the grammar, loaded once and kept for the life of the process; undefined when the
 * runtime or the grammar cannot be loaded (the error is kept for `grammarLoadError`, and the
 * failure is not retried for every file).
 */
export function loadParser(grammar: GrammarName): Promise<Parser | undefined> {
  let parser = parsers.get(grammar);
  if (!parser) {
    parser = createParser(grammar).catch((error: unknown) => {
      loadErrors.set(grammar, error instanceof Error ? error.message : String(error));
      return undefined;
    });
    parsers.set(grammar, parser);
  }
  return parser;
}

/** Why the grammar could not be loaded, if it could not. */
export function grammarLoadError(grammar: GrammarName): string | undefined {
  return loadErrors.get(grammar);
}

async function createParser(grammar: GrammarName): Promise<Parser> {
  const treeSitter = await loadRuntime();
  const file = resolveWasmFile(grammarWasmFile(grammar));
  if (!file) throw new Error(`${grammarWasmFile(grammar)} was found neither next to the bundle nor in ${GRAMMAR_PACKAGE}.`);
  const language = await treeSitter.Language.load(fs.readFileSync(file));
  const parser = new treeSitter.Parser();
  parser.setLanguage(language);
  return parser;
}

function loadRuntime(): Promise<TreeSitter> {
  runtime ??= (async () => {
    // require(), not import: esbuild then bundles web-tree-sitter's CommonJS build, which works in
    // our CommonJS bundle; its ES module build needs import.meta.url, which the bundle lacks.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const treeSitter = require('web-tree-sitter') as TreeSitter;
    const file = resolveWasmFile(RUNTIME_WASM);
    if (!file) throw new Error(`${RUNTIME_WASM} was found neither next to the bundle nor in web-tree-sitter.`);
    // Handing over the bytes spares the runtime from guessing where it lives (bundle, extension host).
    await treeSitter.Parser.init({ wasmBinary: fs.readFileSync(file) });
    return treeSitter;
  })();
  return runtime;
}
