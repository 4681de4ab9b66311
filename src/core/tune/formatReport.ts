import type { MetricSummary } from '../eval/metrics';
import type { TuneReport } from './runTune';
import { judgedCount } from './userJudged';

/** The before/after table and the outcome, for people. */
export function formatTuneReport(report: TuneReport): string {
  const lines = [`Run ${report.runDir} (${report.seconds.toFixed(0)} s)`, `student ${report.student}; teacher ${report.teacher}; LLM ${report.llm}`];
  if (report.earlierRun) lines.push(`the earlier run was moved to ${report.earlierRun}; delete it when you no longer need it`);
  if (report.queries) {
    lines.push(`queries: ${report.queries.generated} written, ${report.queries.kept} kept (${report.queries.heldOut} held out)`);
  }
  if (report.userJudged) {
    const u = report.userJudged;
    const left = [u.stale ? `${u.stale} left out: their relevant passages changed since they were marked` : '', u.unreadableLines ? `${u.unreadableLines} unreadable ${u.unreadableLines === 1 ? 'line' : 'lines'} skipped` : ''].filter(Boolean);
    lines.push(`your judgements: ${u.marks} ${u.marks === 1 ? 'mark' : 'marks'}, ${judgedCount(u.queries)} with a relevant result${left.length ? ` (${left.join('; ')})` : ''}`);
  }
  if (report.teacherCheck) {
    const c = report.teacherCheck;
    lines.push(`teacher check on ${c.queries} held-out queries: student nDCG@10 ${c.student['ndcg@10'].toFixed(4)}, teacher ${c.teacher['ndcg@10'].toFixed(4)}`);
    if (c.userJudged) lines.push(`teacher check on ${judgedCount(c.userJudged.queries)} you judged: student nDCG@10 ${c.userJudged.student['ndcg@10'].toFixed(4)}, teacher ${c.userJudged.teacher['ndcg@10'].toFixed(4)}`);
  }
  if (report.training) {
    const t = report.training;
    lines.push(`training data: ${t.train} train, ${t.dev} dev queries, batch ${t.batchSize}${t.steps !== undefined ? `; ${t.steps} steps (${t.stopped})` : ''}`);
  }
  if (report.comparison) {
    const c = report.comparison;
    lines.push('', ...table(`held-out queries: ${c.queries}`, c.base, c.tuned));
    if (c.userJudged) lines.push('', ...table(`queries you judged: ${c.userJudged.queries}`, c.userJudged.base, c.userJudged.tuned));
    lines.push('');
  }
  lines.push(report.outcome, '');
  return lines.join('\n');
}

function table(title: string, base: MetricSummary, tuned: MetricSummary): string[] {
  const row = (name: string, m: MetricSummary) => `| ${name} | ${m['ndcg@10'].toFixed(4)} | ${m['recall@100'].toFixed(4)} | ${m['mrr@10'].toFixed(4)} |`;
  return [title, '| model | nDCG@10 | Recall@100 | MRR@10 |', '|---|---|---|---|', row('base', base), row('tuned', tuned)];
}
