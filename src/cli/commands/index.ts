import type { Command } from 'commander';
import type { Precision } from '../../core/embed/embedder';
import { indexFolders } from '../../core/indexFolders';
import { DEFAULT_MODEL_ID } from '../../core/models/packaged';
import { oneOf, positiveInt, printJson, runCommand } from '../run';

interface IndexFlags {
  store: string;
  model: string;
  precision: Precision;
  threads?: number;
  json?: boolean;
}

export function registerIndex(program: Command): void {
  program
    .command('index')
    .description('Index folders of text into a store: passages, full-text index and embeddings (incremental)')
    .argument('<folders...>', 'folders to index')
    .requiredOption('--store <dir>', 'index folder (created if missing)')
    .option('--model <id|dir>', 'embedding model: Hugging Face id or local folder', DEFAULT_MODEL_ID)
    .option('--precision <p>', 'fp32 or int8', oneOf('--precision', ['fp32', 'int8'] as const), 'fp32')
    .option('--threads <n>', 'onnxruntime threads (default: all cores)', positiveInt('--threads', 256))
    .option('--json', 'print a JSON summary')
    .action(async (folders: string[], flags: IndexFlags) => {
      await runCommand({}, async ({ signal, progress }) => {
        const report = await indexFolders({
          folders,
          storeDir: flags.store,
          model: flags.model,
          precision: flags.precision,
          signal,
          onProgress: progress,
          ...(flags.threads ? { threads: flags.threads } : {}),
        });
        if (flags.json) {
          printJson(report);
          return;
        }
        const skipped = Object.entries(report.scan.skipped).map(([reason, count]) => `${count} ${reason}`);
        process.stdout.write(
          [
            `Indexed ${report.scan.files} files → ${report.scan.passages} passages in ${report.store} (${report.seconds.toFixed(1)} s)`,
            `  passages: ${report.passages.added} new, ${report.passages.changed} changed, ${report.passages.unchanged} unchanged, ${report.passages.removed} removed`,
            `  vectors (${report.vectors.version}): ${report.vectors.embedded} embedded, ${report.vectors.removed} removed, ${report.vectors.total} total`,
            ...(skipped.length ? [`  skipped: ${skipped.join(', ')}`] : []),
            '',
          ].join('\n'),
        );
      });
    });
}
