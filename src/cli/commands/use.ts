import type { Command } from 'commander';
import type { ModelEntry } from '../../core/store/manifest';
import { Store } from '../../core/store/store';
import { printJson, runCommand } from '../run';

export function registerUse(program: Command): void {
  program
    .command('use')
    .description('Make a model version the active one (the one searches use); a unique prefix of the version is enough')
    .argument('<version>', 'model version, as `specialize models list` shows it, or a unique prefix of it')
    .requiredOption('--store <dir>', 'index folder made by `specialize index`')
    .option('--json', 'print one JSON object: previous, active')
    .action(async (wanted: string, flags: { store: string; json?: boolean }) => {
      await runCommand({ quiet: true }, async () => {
        const store = await Store.open(flags.store);
        try {
          const previous = store.activeModel;
          const chosen = store.findModel(wanted);
          await store.setActiveModel(chosen.version);
          const passages = await store.passageCount();
          const missing = passages - (await store.vectorCount(chosen.version));
          if (flags.json) {
            printJson({ previous: previous?.version ?? null, active: chosen.version });
          } else {
            const unchanged = previous?.version === chosen.version;
            process.stdout.write(unchanged ? `${describe(chosen)} was already active.\n` : `was  ${previous ? describe(previous) : 'none'}\nnow  ${describe(chosen)}\n`);
          }
          // Indexing embeds with one model, so other versions fall behind as files change; say so
          // rather than let searches silently miss the newer passages.
          if (missing > 0) {
            process.stderr.write(
              `note: ${missing} of ${passages} passages have no vectors for ${chosen.version} yet; searches will miss them until \`specialize index <folder> --store ${flags.store} --model ${chosen.modelId}\` embeds them.\n`,
            );
          }
        } finally {
          store.close();
        }
      });
    });
}

function describe(entry: ModelEntry): string {
  return `${entry.version}${entry.label ? ` (${entry.label})` : ''}`;
}
