import type { Command } from 'commander';
import { SpecializeError } from '../../core/errors';
import type { BreakerEvent } from '../../core/synth/llm/circuitBreaker';
import { createLlmClient, LLM_API_KEY_ENV } from '../../core/synth/llm/createClient';
import { QUERY_TYPE_IDS } from '../../core/synth/queryTypes';
import { runSynth, type SynthPlan } from '../../core/synth/runSynth';
import { DEFAULT_HOLD_OUT, DEFAULT_MAX_PASSAGES, DEFAULT_SEED } from '../../core/synth/sampling';
import { DEFAULT_SYNTH_TYPES } from '../../core/synth/defaults';
import { nonNegativeInt, nonNegativeNumber, positiveInt, printJson, runCommand } from '../run';

interface SynthFlags {
  store: string;
  out: string;
  llm: string;
  model?: string;
  types: string;
  perType: number;
  maxPassages: number;
  holdOut: number;
  seed: number;
  concurrency?: number;
  timeout: number;
  priceIn?: number;
  priceOut?: number;
  threads?: number;
  json?: boolean;
}

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('Have an LLM write synthetic training queries for indexed passages (resumable; filtered by the round trip)')
    .requiredOption('--store <dir>', 'index folder made by `specialize index`')
    .requiredOption('--out <dir>', 'output folder: queries.jsonl, dropped.jsonl, candidates.jsonl, the generation log')
    .option('--llm <url|local>', `"local" (the embedded model, no server, no key) or an OpenAI-compatible base URL such as http://localhost:11434/v1; the key comes from $${LLM_API_KEY_ENV}`, 'local')
    .option('--model <name|file.gguf>', 'endpoint model name (required with a URL), or a GGUF file for --llm local')
    .option('--types <list>', `comma-separated query types: ${QUERY_TYPE_IDS.join(', ')}`, DEFAULT_SYNTH_TYPES.join(','))
    .option('--per-type <n>', 'queries of each type per passage', positiveInt('--per-type', 20), 1)
    .option('--max-passages <n>', 'passages to sample (near-duplicates removed first)', positiveInt('--max-passages'), DEFAULT_MAX_PASSAGES)
    .option('--hold-out <n>', 'passages held out; their queries form the synthetic evaluation set', nonNegativeInt('--hold-out'), DEFAULT_HOLD_OUT)
    .option('--seed <n>', 'sampling seed', nonNegativeInt('--seed'), DEFAULT_SEED)
    .option('--concurrency <n>', 'requests in flight (default: 4 for an endpoint, one per CPU core up to 4 for the local model)', positiveInt('--concurrency', 256))
    .option('--timeout <seconds>', 'per-request timeout', positiveInt('--timeout', 3600), 60)
    .option('--price-in <usd>', 'USD per million prompt tokens, for the cost estimate', nonNegativeNumber('--price-in'))
    .option('--price-out <usd>', 'USD per million completion tokens, for the cost estimate', nonNegativeNumber('--price-out'))
    .option('--threads <n>', 'onnxruntime threads for the round-trip filter', positiveInt('--threads', 256))
    .option('--json', 'print a summary object on stdout')
    .action(async (flags: SynthFlags) => {
      await runCommand({}, async ({ signal, progress }) => {
        const types = flags.types
          .split(',')
          .map((type) => type.trim())
          .filter(Boolean);
        if (types.length === 0) throw new SpecializeError('--types is empty.', `List at least one of: ${QUERY_TYPE_IDS.join(', ')}.`);
        const client = await createLlmClient({
          llm: flags.llm,
          ...(flags.model ? { model: flags.model } : {}),
          apiKey: process.env[LLM_API_KEY_ENV],
          ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
          timeoutMs: flags.timeout * 1000,
          signal,
          onProgress: progress,
          onBreaker: (event) => process.stderr.write(describeBreaker(event)),
        });
        try {
          const summary = await runSynth({
            storeDir: flags.store,
            outDir: flags.out,
            client,
            types,
            perType: flags.perType,
            maxPassages: flags.maxPassages,
            holdOut: flags.holdOut,
            seed: flags.seed,
            ...(flags.threads ? { threads: flags.threads } : {}),
            signal,
            onProgress: progress,
            onPlan: (plan) => {
              process.stderr.write(describePlan(plan, flags));
            },
          });
          if (flags.json) printJson(summary);
          else {
            const drops = Object.entries(summary.dropped).map(([reason, n]) => `${reason} ${n}`);
            process.stdout.write(
              `${summary.cancelled ? 'Cancelled: answers so far are kept in the log; run again to continue.\n' : ''}` +
                `${summary.generated} queries generated, ${summary.kept} kept (${summary.heldOutQueries} held out for evaluation)${drops.length ? `; dropped: ${drops.join(', ')}` : ''}.\n` +
                `${summary.requests} requests (${summary.retries} retries, ${summary.cached} answers reused), ${summary.tokens.prompt + summary.tokens.completion} tokens, ${summary.seconds.toFixed(1)} s.\n` +
                `Queries: ${summary.files.queries}\n`,
            );
          }
          if (summary.cancelled) process.exitCode = 130;
        } finally {
          await client.close();
        }
      });
    });
}

function describeBreaker(event: BreakerEvent): string {
  if (event.state === 'open') {
    return `\nThe endpoint failed ${event.consecutiveFailures} times in a row: pausing ${Math.round((event.coolDownMs ?? 0) / 1000)} s before trying again.\n`;
  }
  if (event.state === 'closed') return '\nThe endpoint answers again: resuming.\n';
  return '';
}

function describePlan(plan: SynthPlan, flags: SynthFlags): string {
  const t = plan.passages;
  const lines = [
    `LLM: ${plan.llm}`,
    `Passages: ${t.total} in the index, ${t.tooShort} too short, ${t.nearDuplicate} near-duplicates; ${t.sampled} sampled, ${t.heldOut} held out.`,
    `Requests: ${plan.requests} to make${plan.cached ? `, ${plan.cached} answered before (reused)` : ''}; about ${plan.estimatedPromptTokens} prompt tokens, at most ${plan.maxCompletionTokens} completion tokens.`,
  ];
  if (plan.paid) {
    if (flags.priceIn !== undefined || flags.priceOut !== undefined) {
      const cost = (plan.estimatedPromptTokens * (flags.priceIn ?? 0) + plan.maxCompletionTokens * (flags.priceOut ?? 0)) / 1e6;
      lines.push(`Estimated cost: at most about $${cost.toFixed(2)} (prompt tokens estimated at 4 characters each).`);
    } else {
      lines.push('This endpoint may charge per token: pass --price-in and --price-out (USD per million tokens) for a cost estimate.');
    }
  }
  return `${lines.join('\n')}\n`;
}
