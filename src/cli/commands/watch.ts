import type { Command } from 'commander';
import { watchFolders } from '../../core/watch/watchFolders';
import { WorkspaceIndex } from '../../core/workspaceIndex';
import { addIndexingOptions, modelOptionsFromFlags, scanOptionsFromFlags, type IndexingFlags } from '../indexingOptions';
import { runCommand } from '../run';

interface WatchFlags extends IndexingFlags {
  store: string;
}

export function registerWatch(program: Command): void {
  addIndexingOptions(
    program
      .command('watch')
      .description('Index folders, then keep the index current as files change (until Ctrl-C)')
      .argument('<folders...>', 'root folders to watch')
      .requiredOption('--store <dir>', 'index folder (created if missing)'),
  ).action(async (folders: string[], flags: WatchFlags) => {
      await runCommand({}, async ({ signal, progress }) => {
        const index = await WorkspaceIndex.open({ folders, storeDir: flags.store, ...modelOptionsFromFlags(flags), ...scanOptionsFromFlags(flags) });
        try {
          const first = await index.indexAll({ signal, onProgress: progress });
          process.stdout.write(`Indexed ${first.scan.indexedFiles} files (${first.vectors.embedded} passages embedded) in ${first.seconds.toFixed(1)} s; watching for changes, Ctrl-C to stop.\n`);
          const watch = await watchFolders(index, {
            onUpdate: (report, paths) => {
              const names = paths.map((p) => p.split(/[\\/]/).pop()).slice(0, 3).join(', ');
              process.stdout.write(`updated ${names}${paths.length > 3 ? ` and ${paths.length - 3} more` : ''}: ${report.passages.added + report.passages.changed} passages written, ${report.passages.removed} removed, ${report.vectors.embedded} embedded (${(report.seconds * 1000).toFixed(0)} ms)\n`);
            },
            onError: (error) => process.stderr.write(`specialize: update failed: ${error instanceof Error ? error.message : String(error)}\n`),
          });
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          await watch.close();
        } finally {
          await index.close();
        }
      });
    });
}
