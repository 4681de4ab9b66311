import type { TuneReport } from './runTune';

/** The before/after table and the outcome, for people. */
export function formatTuneReport(report: TuneReport): string {
  const lines = [`Run ${report.runDir} (${report.seconds.toFixed(0)} s)`, `student ${report.student}; teacher ${report.teacher}; LLM ${report.llm}`];
  if (report.queries) {
    lines.push(`queries: ${report.queries.generated} written, ${report.queries.kept} kept (${report.queries.heldOut} held out)`);
  }
  if (report.teacherCheck) {
    const c = report.teacherCheck;
    lines.push(`teacher check on ${c.queries} held-out queries: student nDCG@10 ${c.student['ndcg@10'].toFixed(4)}, teacher ${c.teacher['ndcg@10'].toFixed(4)}`);
  }
  if (report.training) {
    const t = report.training;
    lines.push(`training data: ${t.train} train, ${t.dev} dev queries, batch ${t.batchSize}${t.steps !== undefined ? `; ${t.steps} steps (${t.stopped})` : ''}`);
  }
  if (report.comparison) {
    const c = report.comparison;
    lines.push('', `held-out queries: ${c.queries}`, '| model | nDCG@10 | Recall@100 | MRR@10 |', '|---|---|---|---|');
    for (const [name, m] of [
      ['base', c.base],
      ['tuned', c.tuned],
    ] as const) {
      lines.push(`| ${name} | ${m['ndcg@10'].toFixed(4)} | ${m['recall@100'].toFixed(4)} | ${m['mrr@10'].toFixed(4)} |`);
    }
    lines.push('');
  }
  lines.push(report.outcome, '');
  return lines.join('\n');
}
