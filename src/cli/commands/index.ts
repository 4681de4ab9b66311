import type { Command } from 'commander';
import type { Precision } from '../../core/embed/embedder';
import { SpecializeError } from '../../core/errors';
import { indexFolders, scanSettings } from '../../core/indexFolders';
import { listDecisions } from '../../core/ingest/collectPassages';
import type { ScanTally } from '../../core/ingest/scan/tally';
import type { ScanOptions } from '../../core/ingest/types';
import { DEFAULT_MODEL_ID } from '../../core/models/packaged';
import { oneOf, positiveInt, printJson, runCommand } from '../run';

interface IndexFlags {
  store?: string;
  model: string;
  precision: Precision;
  threads?: number;
  include: string[];
  exclude: string[];
  maxFileSize?: number;
  defaultIgnores: boolean;
  dryRun?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerIndex(program: Command): void {
  program
    .command('index')
    .description('Index folders into a store: scan (ignore rules, deny list), chunk (docs by headings, code by symbols), embed what changed')
    .argument('<folders...>', 'root folders to index (several roots are fine)')
    .option('--store <dir>', 'index folder (created if missing; required unless --dry-run)')
    .option('--model <id|dir>', 'embedding model: Hugging Face id or local folder', DEFAULT_MODEL_ID)
    .option('--precision <p>', 'fp32 or int8', oneOf('--precision', ['fp32', 'int8'] as const), 'fp32')
    .option('--threads <n>', 'onnxruntime threads (default: all cores)', positiveInt('--threads', 256))
    .option('--include <glob>', 'only index files matching this gitignore-style pattern (repeatable)', collect, [])
    .option('--exclude <glob>', 'never index files matching this gitignore-style pattern (repeatable)', collect, [])
    .option('--max-file-size <bytes>', 'skip larger files (default 1000000)', positiveInt('--max-file-size'))
    .option('--no-default-ignores', 'also scan node_modules, dist, build, .venv, … when no ignore file excludes them')
    .option('--dry-run', 'list what would be indexed and why anything is skipped; read no file fully, embed nothing')
    .option('--json', 'print JSON (with --dry-run: one object per file considered)')
    .action(async (folders: string[], flags: IndexFlags) => {
      await runCommand({ quiet: flags.dryRun === true }, async ({ signal, progress }) => {
        const scan: ScanOptions = scanSettings({
          ...(flags.include.length ? { include: flags.include } : {}),
          ...(flags.exclude.length ? { exclude: flags.exclude } : {}),
          ...(flags.maxFileSize !== undefined ? { maxFileBytes: flags.maxFileSize } : {}),
          defaultIgnores: flags.defaultIgnores,
        });
        if (flags.dryRun) {
          const decisions = await listDecisions(folders, { ...scan, signal });
          if (flags.json) {
            printJson(decisions.map((d) => ({ path: d.path, root: d.root, kind: d.kind, decision: d.decision, reason: d.reason, ...(d.size !== undefined ? { size: d.size } : {}) })));
            return;
          }
          for (const d of decisions) process.stdout.write(`${d.decision === 'index' ? 'index' : 'skip '}  ${d.path}${d.kind === 'directory' ? '/' : ''}  (${d.reason})\n`);
          const indexed = decisions.filter((d) => d.decision === 'index').length;
          process.stdout.write(`\n${indexed} files would be indexed; ${decisions.length - indexed} entries skipped.\n`);
          return;
        }
        if (!flags.store) throw new SpecializeError('index needs --store <dir> (where the index is kept).', 'Add --store, or use --dry-run to only list what would be indexed.');
        const report = await indexFolders({
          folders,
          storeDir: flags.store,
          model: flags.model,
          precision: flags.precision,
          signal,
          onProgress: progress,
          ...scan,
          ...(flags.threads ? { threads: flags.threads } : {}),
        });
        if (flags.json) {
          printJson(report);
          return;
        }
        process.stdout.write(
          [
            `Indexed ${report.scan.indexedFiles} files → ${report.passageCount} passages in ${report.store} (${report.seconds.toFixed(1)} s)`,
            `  passages: ${report.passages.added} new, ${report.passages.changed} changed, ${report.passages.unchanged} unchanged, ${report.passages.removed} removed`,
            `  vectors (${report.vectors.version}): ${report.vectors.embedded} embedded, ${report.vectors.removed} removed, ${report.vectors.total} total`,
            ...skippedLines(report.scan),
            '',
          ].join('\n'),
        );
      });
    });
}

function skippedLines(tally: ScanTally): string[] {
  const files = Object.entries(tally.skippedFiles).map(([reason, count]) => `${count} ${reason}`);
  const folders = Object.entries(tally.skippedFolders).map(([reason, count]) => `${count} ${reason}`);
  return [...(files.length ? [`  skipped files: ${files.join(', ')}`] : []), ...(folders.length ? [`  skipped folders: ${folders.join(', ')}`] : [])];
}
