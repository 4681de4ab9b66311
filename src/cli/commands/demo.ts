import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { indexFolders, openSearch } from '../../core/indexFolders';
import { specializeHome, packageRoot } from '../../core/util/paths';
import { runCommand } from '../run';
import { formatResults } from './search';

/**
 * The main job for now: index the sample workspace that ships with the repository and search it
 * with its sample queries, showing hybrid results. (The tuning run replaces this as the main job.)
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Index the bundled sample workspace and run its sample queries')
    .option('--store <dir>', 'index folder (default: SPECIALIZE_HOME/demo-store)')
    .option('--k <n>', 'results per query', (value) => Number(value), 3)
    .action(async (flags: { store?: string; k: number }) => {
      await runCommand({}, async ({ signal, progress }) => {
        const workspace = path.join(packageRoot(), 'samples', 'workspace');
        const queries = fs
          .readFileSync(path.join(packageRoot(), 'samples', 'queries.txt'), 'utf8')
          .split('\n')
          .map((line) => line.trim())
          .filter(Boolean);
        const storeDir = flags.store ?? path.join(specializeHome(), 'demo-store');
        const report = await indexFolders({ folders: [workspace], storeDir, signal, onProgress: progress });
        process.stdout.write(`Indexed ${report.scan.indexedFiles} files → ${report.passageCount} passages (${report.vectors.embedded} embedded now) in ${report.seconds.toFixed(1)} s\nStore: ${storeDir}\n\n`);
        const opened = await openSearch(storeDir, { needsModel: true, signal });
        try {
          for (const query of queries) {
            const results = await opened.searcher.search(query, { mode: 'hybrid', k: flags.k, signal });
            process.stdout.write(`━━ ${query}\n${formatResults(results)}\n`);
          }
        } finally {
          await opened.close();
        }
      });
    });
}
