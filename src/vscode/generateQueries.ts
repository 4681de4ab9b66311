import * as path from 'node:path';
import * as vscode from 'vscode';
import { CancelledError } from '../core/errors';
import { createLlmClient } from '../core/synth/llm/createClient';
import { runSynth, type SynthPlan } from '../core/synth/runSynth';
import { DEFAULT_SYNTH_TYPES } from '../core/synth/defaults';
import { DEFAULT_HOLD_OUT, DEFAULT_MAX_PASSAGES, DEFAULT_SEED } from '../core/synth/sampling';
import { storeDir, type Services } from './services';

/** Where the endpoint's API key lives: VS Code's SecretStorage (the OS keychain), never settings. */
export const LLM_API_KEY_SECRET = 'specialize.llm.apiKey';

/** Asks for the endpoint's API key and keeps it in SecretStorage; an empty answer removes it. */
export async function setLlmApiKey(services: Services): Promise<void> {
  const key = await vscode.window.showInputBox({
    prompt: 'API key of the OpenAI-compatible endpoint (kept in the OS keychain through VS Code SecretStorage; leave empty to remove)',
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return;
  if (key.trim() === '') {
    await services.context.secrets.delete(LLM_API_KEY_SECRET);
    void vscode.window.showInformationMessage('Specialize: the LLM API key was removed.');
  } else {
    await services.context.secrets.store(LLM_API_KEY_SECRET, key.trim());
    void vscode.window.showInformationMessage('Specialize: the LLM API key is stored.');
  }
}

/**
 * Writes synthetic training queries for the workspace index with the configured LLM, with a
 * cancellable progress notification; for an endpoint that charges, the user confirms the size of
 * the run first. Answers are logged as they come, so a cancelled run continues where it stopped.
 */
export async function generateQueries(services: Services): Promise<void> {
  const store = storeDir(services.context);
  if (!store || !services.search.hasIndex()) {
    const choice = await vscode.window.showInformationMessage('Specialize: index the workspace before generating training queries.', 'Index Workspace');
    if (choice) await vscode.commands.executeCommand('specialize.indexWorkspace');
    return;
  }
  if (services.cancelRunning) {
    void vscode.window.showInformationMessage('Specialize is busy with another task; cancel it or wait for it to finish.');
    return;
  }
  const config = vscode.workspace.getConfiguration('specialize');
  const outDir = path.join(path.dirname(store), 'synth');
  await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Specialize: writing training queries', cancellable: true }, async (progress, token) => {
    const controller = new AbortController();
    token.onCancellationRequested(() => controller.abort());
    services.cancelRunning = () => controller.abort();
    let reported = 0;
    try {
      const client = await createLlmClient({
        llm: config.get<string>('llm.endpoint', 'local') || 'local',
        ...(config.get<string>('llm.model') ? { model: config.get<string>('llm.model') as string } : {}),
        apiKey: await services.context.secrets.get(LLM_API_KEY_SECRET),
        ...(config.get<number>('llm.concurrency', 0) > 0 ? { concurrency: config.get<number>('llm.concurrency') as number } : {}),
        signal: controller.signal,
        onBreaker: (event) => {
          if (event.state === 'open') services.log.warn(`The LLM endpoint keeps failing: pausing ${Math.round((event.coolDownMs ?? 0) / 1000)} s.`);
          if (event.state === 'closed') services.log.info('The LLM endpoint answers again.');
        },
      });
      try {
        const summary = await runSynth({
          storeDir: store,
          outDir,
          client,
          types: config.get<string[]>('synth.types', [...DEFAULT_SYNTH_TYPES]),
          perType: config.get<number>('synth.perType', 1),
          maxPassages: config.get<number>('synth.maxPassages', DEFAULT_MAX_PASSAGES),
          holdOut: DEFAULT_HOLD_OUT,
          seed: DEFAULT_SEED,
          signal: controller.signal,
          onPlan: async (plan) => {
            services.log.info(describePlan(plan));
            if (plan.paid && plan.requests > 0 && !(await confirmPaidRun(plan))) controller.abort();
          },
          onProgress: (event) => {
            const percent = event.total > 0 ? Math.floor((100 * event.done) / event.total) : 0;
            const increment = event.stage === 'write queries' ? Math.max(0, percent - reported) : 0;
            if (event.stage === 'write queries') reported = Math.max(reported, percent);
            progress.report({ message: `${event.stage} ${event.done}/${event.total || '?'}${event.message ? ` · ${event.message}` : ''}`, increment });
          },
        });
        const text = `${summary.kept} training queries kept of ${summary.generated} generated (${summary.requests} requests, ${summary.cached} reused) in ${summary.seconds.toFixed(0)} s`;
        services.log.info(`${text}; dropped: ${JSON.stringify(summary.dropped)}; files in ${outDir}`);
        if (summary.cancelled) void vscode.window.showInformationMessage('Specialize: query writing was cancelled; what was written is kept and a rerun continues from there.');
        else void vscode.window.showInformationMessage(`Specialize: ${text}.`);
      } finally {
        await client.close();
      }
    } catch (error) {
      if (controller.signal.aborted || error instanceof CancelledError) {
        void vscode.window.showInformationMessage('Specialize: query writing was cancelled.');
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      services.log.error(error instanceof Error ? (error.stack ?? message) : message);
      void vscode.window.showErrorMessage(`Specialize: writing training queries failed: ${message}`);
    } finally {
      services.cancelRunning = undefined;
    }
  });
}

function describePlan(plan: SynthPlan): string {
  return `LLM ${plan.llm}: ${plan.requests} requests (${plan.cached} answered before), ~${plan.estimatedPromptTokens} prompt tokens, ≤ ${plan.maxCompletionTokens} completion tokens; ${plan.passages.sampled} passages sampled, ${plan.passages.heldOut} held out.`;
}

async function confirmPaidRun(plan: SynthPlan): Promise<boolean> {
  const choice = await vscode.window.showWarningMessage(
    `Specialize will send ${plan.requests} requests to ${plan.llm}: about ${plan.estimatedPromptTokens.toLocaleString()} prompt tokens and at most ${plan.maxCompletionTokens.toLocaleString()} completion tokens. This endpoint may charge for them.`,
    { modal: true },
    'Start',
  );
  return choice === 'Start';
}
