import type { Command } from 'commander';
import type { Precision } from '../../core/embed/embedder';
import { DEFAULT_MODEL_ID } from '../../core/models/packaged';
import { watchFolders } from '../../core/watch/watchFolders';
import { WorkspaceIndex } from '../../core/workspaceIndex';
import { oneOf, positiveInt, runCommand } from '../run';

interface WatchFlags {
  store: string;
  model: string;
  precision: Precision;
  threads?: number;
  include: string[];
  exclude: string[];
  defaultIgnores: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description('Index folders, then keep the index current as files change (until Ctrl-C)')
    .argument('<folders...>', 'root folders to watch')
    .requiredOption('--store <dir>', 'index folder (created if missing)')
    .option('--model <id|dir>', 'embedding model: Hugging Face id or local folder', DEFAULT_MODEL_ID)
    .option('--precision <p>', 'fp32 or int8', oneOf('--precision', ['fp32', 'int8'] as const), 'fp32')
    .option('--threads <n>', 'onnxruntime threads (default: all cores)', positiveInt('--threads', 256))
    .option('--include <glob>', 'only index files matching this pattern (repeatable)', collect, [])
    .option('--exclude <glob>', 'never index files matching this pattern (repeatable)', collect, [])
    .option('--no-default-ignores', 'also scan node_modules, dist, build, .venv, …')
    .action(async (folders: string[], flags: WatchFlags) => {
      await runCommand({}, async ({ signal, progress }) => {
        const index = await WorkspaceIndex.open({
          folders,
          storeDir: flags.store,
          model: flags.model,
          precision: flags.precision,
          defaultIgnores: flags.defaultIgnores,
          ...(flags.include.length ? { include: flags.include } : {}),
          ...(flags.exclude.length ? { exclude: flags.exclude } : {}),
          ...(flags.threads ? { threads: flags.threads } : {}),
        });
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
