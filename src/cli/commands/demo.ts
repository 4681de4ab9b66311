import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { openSearch } from '../../core/indexFolders';
import { DEFAULT_SYNTH_TYPES } from '../../core/synth/defaults';
import { createLlmClient } from '../../core/synth/llm/createClient';
import { BUDGETS } from '../../core/tune/budget';
import { runTune, type TuneReport } from '../../core/tune/runTune';
import { isSpecializeError } from '../../core/errors';
import { packageRoot, specializeHome } from '../../core/util/paths';
import { positiveInt, runCommand } from '../run';
import { formatResults } from './search';
import { formatTuneReport } from '../../core/tune/formatReport';

/**
 * The main job on the sample workspace that ships with the repository: `specialize tune` with the
 * embedded defaults (local models, the embedded LLM, no keys, no servers), the before/after table,
 * then the sample queries against whichever model the promotion gate left active.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Tune on the bundled sample workspace with embedded defaults, print the before/after table, and run its sample queries')
    .option('--store <dir>', 'index folder (default: SPECIALIZE_HOME/demo-store); a rerun resumes the run')
    .option('--max-passages <n>', 'passages to write queries for', positiveInt('--max-passages'), 40)
    .option('--fresh', 'start the tuning run over')
    .option('--k <n>', 'results per query', (value) => Number(value), 3)
    .action(async (flags: { store?: string; maxPassages: number; fresh?: boolean; k: number }) => {
      await runCommand({}, async ({ signal, progress }) => {
        const workspace = path.join(packageRoot(), 'samples', 'workspace');
        const queries = fs
          .readFileSync(path.join(packageRoot(), 'samples', 'queries.txt'), 'utf8')
          .split('\n')
          .map((line) => line.trim())
          .filter(Boolean);
        const storeDir = flags.store ?? path.join(specializeHome(), 'demo-store');
        const client = await createLlmClient({ llm: 'local', signal, onProgress: progress });
        try {
          process.stderr.write(
            'The demo trains even when the teacher check says the teacher is no better, to show every stage; the promotion gate still decides what search uses.\n',
          );
          const tune = () =>
            runTune({
              folders: [workspace],
              storeDir,
              fresh: flags.fresh === true,
              client,
              budget: { ...BUDGETS.small, maxPassages: flags.maxPassages, holdOut: Math.max(10, Math.round(flags.maxPassages / 4)) },
              types: DEFAULT_SYNTH_TYPES,
              force: true,
              signal,
              onProgress: progress,
              onStage: (stage, skipped) => process.stderr.write(skipped ? `stage ${stage}: done in an earlier run, skipped\n` : `stage ${stage}\n`),
            });
          let report: TuneReport;
          try {
            report = await tune();
          } catch (error) {
            // The default demo store belongs to the demo: a run from another version or with other
            // settings (an upgrade changed a default) is started over instead of refused.
            if (flags.store !== undefined || !isSpecializeError(error) || error.code !== 'run-mismatch') throw error;
            process.stderr.write(`The demo's earlier run cannot be resumed (${error.message}); starting over in ${storeDir}.\n`);
            await fs.promises.rm(storeDir, { recursive: true, force: true });
            report = await tune();
          }
          process.stdout.write(`${formatTuneReport(report)}\nStore: ${storeDir}\n\n`);
        } finally {
          await client.close();
        }
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
