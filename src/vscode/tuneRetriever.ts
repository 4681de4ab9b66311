import * as path from 'node:path';
import * as vscode from 'vscode';
import { CancelledError, isSpecializeError } from '../core/errors';
import { DEFAULT_SYNTH_TYPES } from '../core/synth/defaults';
import type { CandidateSource } from '../core/synth/candidates';
import { createLlmClient } from '../core/synth/llm/createClient';
import { budgetWith } from '../core/tune/budget';
import { runTune, type TuneReport } from '../core/tune/runTune';
import { formatDuration } from '../core/progress';
import { formatTuneReport } from '../core/tune/formatReport';
import { DEFAULT_TEACHER_TEXT, parseTeacher } from '../core/tune/teacherSpec';
import { LLM_API_KEY_SECRET } from './generateQueries';
import { readyForWorkspaceTask, setStatus, type Services } from './services';
import { scanSettingsFromConfiguration } from './settings';

/**
 * `specialize tune` on the open workspace: a cancellable progress notification per stage, the run
 * folder next to the index (a rerun resumes), the report in the log, and the outcome as a message.
 * When the teacher check stops the run, the user may train anyway.
 */
export async function tuneRetriever(services: Services, force = false, fresh = false): Promise<void> {
  const ready = readyForWorkspaceTask(services, { verb: 'tune on', busy: 'Specialize is busy with another task; cancel it or wait for it to finish.' });
  if (!ready) return;
  const { folders, store } = ready;
  const config = vscode.workspace.getConfiguration('specialize');
  const teacher = config.get<string>('tune.teacher', '') || DEFAULT_TEACHER_TEXT;
  // A run folder from another version or with other settings: offered a fresh start after the progress ends.
  let mismatch: string | undefined;
  const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Specialize: tuning the retriever', cancellable: true }, async (progress, token): Promise<TuneReport | undefined> => {
    const controller = new AbortController();
    token.onCancellationRequested(() => controller.abort());
    services.cancelRunning = () => controller.abort();
    let stage = '';
    try {
      const client = await createLlmClient({
        llm: config.get<string>('llm.endpoint', 'local') || 'local',
        ...(config.get<string>('llm.model') ? { model: config.get<string>('llm.model') as string } : {}),
        apiKey: await services.context.secrets.get(LLM_API_KEY_SECRET),
        signal: controller.signal,
      });
      try {
        return await runTune({
          folders,
          storeDir: store,
          runDir: path.join(path.dirname(store), 'tune'),
          fresh,
          scan: scanSettingsFromConfiguration(),
          teacher: parseTeacher(teacher, config.get<'bi-encoder' | 'cross-encoder'>('tune.teacherKind', 'bi-encoder')),
          candidateSource: config.get<CandidateSource>('tune.candidates', 'student'),
          client,
          budget: budgetWith(config.get<string>('tune.budget', 'small'), { maxPassages: config.get<number>('tune.maxPassages', 0) || undefined }),
          types: config.get<string[]>('synth.types', [...DEFAULT_SYNTH_TYPES]),
          force,
          signal: controller.signal,
          onStage: (name, skipped) => {
            stage = name;
            services.log.info(`tune: stage ${name}${skipped ? ' (done in an earlier run, skipped)' : ''}`);
            setStatus(services, `$(sync~spin) Specialize: ${name}`, `Tuning: stage ${name}`);
          },
          onProgress: (event) => progress.report({ message: `${stage} · ${event.stage} ${event.done}/${event.total || '?'}${event.etaSeconds !== undefined ? ` · ETA ${formatDuration(event.etaSeconds)}` : ''}${event.message ? ` · ${event.message}` : ''}` }),
        });
      } finally {
        await client.close();
      }
    } catch (error) {
      if (controller.signal.aborted || error instanceof CancelledError) {
        void vscode.window.showInformationMessage('Specialize: tuning was cancelled; finished stages are kept and running it again continues.');
        return undefined;
      }
      if (isSpecializeError(error) && error.code === 'run-mismatch') {
        services.log.warn(`tune: ${error.message}`);
        mismatch = error.message;
        return undefined;
      }
      if (isSpecializeError(error)) {
        // A problem the user can fix (nothing indexable, no usable queries, a teacher that does not load).
        services.log.warn(`tune: stopped at stage ${stage}: ${error.message} ${error.fix}`);
        void vscode.window.showErrorMessage(`Specialize: tuning stopped at stage ${stage}: ${error.message} ${error.fix}`);
        return undefined;
      }
      const message = error instanceof Error ? error.message : String(error);
      services.log.error(`tune: failed at stage ${stage}: ${error instanceof Error ? (error.stack ?? message) : message}`);
      void vscode.window.showErrorMessage(`Specialize: tuning failed at stage ${stage}: ${message} (see Specialize logs).`);
      return undefined;
    } finally {
      services.cancelRunning = undefined;
      setStatus(services, '$(search) Specialize', 'Ready');
    }
  });
  if (mismatch !== undefined) {
    const choice = await vscode.window.showWarningMessage(`Specialize: ${mismatch} Start over? The old run folder is kept beside the new one.`, 'Start Over');
    if (choice) await tuneRetriever(services, force, true);
    return;
  }
  if (!report) return;
  services.log.info(`tune: ${formatTuneReport(report)}`);
  // The session's open index may use the model that was active before; reopen it on the next search.
  await services.search.invalidate();
  if (report.stoppedAt === 'teacher-check' && !force) {
    const choice = await vscode.window.showWarningMessage(`Specialize: ${report.outcome}`, 'Train Anyway');
    if (choice) await tuneRetriever(services, true);
    return;
  }
  void vscode.window.showInformationMessage(`Specialize: ${report.outcome}`);
}
