import type { Command } from 'commander';
import { SpecializeError } from '../../core/errors';
import { indexFolders } from '../../core/indexFolders';
import { listDecisions } from '../../core/ingest/collectPassages';
import type { ScanTally } from '../../core/ingest/scan/tally';
import { addIndexingOptions, modelOptionsFromFlags, scanOptionsFromFlags, type IndexingFlags } from '../indexingOptions';
import { printJson, runCommand } from '../run';

interface IndexFlags extends IndexingFlags {
  store?: string;
  dryRun?: boolean;
  json?: boolean;
}

export function registerIndex(program: Command): void {
  addIndexingOptions(
    program
      .command('index')
      .description('Index folders into a store: scan (ignore rules, deny list), chunk (docs by headings, code by symbols), embed what changed')
      .argument('<folders...>', 'root folders to index (several roots are fine)')
      .option('--store <dir>', 'index folder (created if missing; required unless --dry-run)'),
  )
    .option('--dry-run', 'list what would be indexed and why anything is skipped; read no file fully, embed nothing')
    .option('--json', 'print JSON (with --dry-run: one object per file considered)')
    .action(async (folders: string[], flags: IndexFlags) => {
      await runCommand({ quiet: flags.dryRun === true }, async ({ signal, progress }) => {
        const scan = scanOptionsFromFlags(flags);
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
          signal,
          onProgress: progress,
          ...modelOptionsFromFlags(flags),
          ...scan,
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
