import type { Command } from 'commander';
import { openSearch } from '../../core/indexFolders';
import { SEARCH_MODES, validateQuery, type SearchMode, type SearchResult } from '../../core/search/searcher';
import { nonNegativeNumber, oneOf, positiveInt, printJson, runCommand } from '../run';

interface SearchFlags {
  store: string;
  k: number;
  mode: SearchMode;
  exact?: boolean;
  denseWeight: number;
  bm25Weight: number;
  threads?: number;
  json?: boolean;
}

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('Search an index: dense, BM25 or hybrid (reciprocal rank fusion)')
    .argument('<query>', 'what to look for')
    .requiredOption('--store <dir>', 'index folder made by `specialize index`')
    .option('--k <n>', 'number of results', positiveInt('--k', 10_000), 10)
    .option('--mode <mode>', `retrieval mode: ${SEARCH_MODES.join(', ')}`, oneOf('--mode', SEARCH_MODES), 'hybrid')
    .option('--exact', 'scan every vector instead of using the ANN index')
    .option('--dense-weight <w>', 'hybrid: weight of the dense list', nonNegativeNumber('--dense-weight'), 1)
    .option('--bm25-weight <w>', 'hybrid: weight of the BM25 list', nonNegativeNumber('--bm25-weight'), 1)
    .option('--threads <n>', 'onnxruntime threads', positiveInt('--threads', 256))
    .option('--json', 'print results as JSON')
    .action(async (query: string, flags: SearchFlags) => {
      await runCommand({ quiet: true }, async ({ signal, progress }) => {
        validateQuery(query);
        const opened = await openSearch(flags.store, { needsModel: flags.mode !== 'bm25', signal, onProgress: progress, ...(flags.threads ? { threads: flags.threads } : {}) });
        try {
          const results = await opened.searcher.search(query, {
            mode: flags.mode,
            k: flags.k,
            exact: flags.exact === true,
            denseWeight: flags.denseWeight,
            bm25Weight: flags.bm25Weight,
            signal,
          });
          if (flags.json) printJson({ query, mode: flags.mode, results });
          else process.stdout.write(formatResults(results));
        } finally {
          await opened.close();
        }
      });
    });
}

export function formatResults(results: readonly SearchResult[]): string {
  if (results.length === 0) return 'No results.\n';
  return results
    .map((result, index) => {
      const lines = result.startLine !== null ? `:${result.startLine}-${result.endLine}` : '';
      const scores = Object.entries(result.scores)
        .filter(([key]) => !key.endsWith('Rank'))
        .map(([key, value]) => `${key} ${(value as number).toFixed(4)}`)
        .join('  ');
      const snippet = result.snippet
        .split('\n')
        .map((line) => `     ${line}`)
        .join('\n');
      // The id is what `specialize judge` takes to mark the result.
      return `${String(index + 1).padStart(2)}. ${result.path}${lines}   [${scores}]   id ${result.id}\n${snippet}\n`;
    })
    .join('\n');
}
