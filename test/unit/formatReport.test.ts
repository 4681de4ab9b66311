import { describe, expect, it } from 'vitest';
import type { BootstrapInterval } from '../../src/core/eval/bootstrap';
import type { MetricSummary } from '../../src/core/eval/metrics';
import { formatTuneReport } from '../../src/core/tune/formatReport';
import type { TuneReport } from '../../src/core/tune/runTune';

const metrics = (ndcg: number): MetricSummary => ({ 'ndcg@10': ndcg, 'recall@100': 0.9, 'mrr@10': ndcg - 0.05 });
const interval = (mean: number, queries: number): BootstrapInterval => ({ meanDifference: mean, low: mean - 0.01, high: mean + 0.01, confidence: 0.95, resamples: 10_000, queries });

function report(withJudged: boolean): TuneReport {
  return {
    runDir: '/r',
    store: '/s',
    student: 'student',
    teacher: 'teacher',
    llm: 'llm',
    baseVersion: 'base-1',
    promoted: false,
    outcome: 'Not promoted.',
    seconds: 12,
    ...(withJudged ? { userJudged: { queries: 1, marks: 3, stale: 2, unreadableLines: 1 } } : {}),
    teacherCheck: { queries: 40, student: metrics(0.5), teacher: metrics(0.6), better: true, ...(withJudged ? { userJudged: { queries: 1, student: metrics(0.3), teacher: metrics(0.4) } } : {}) },
    comparison: {
      queries: 40,
      base: metrics(0.5),
      tuned: metrics(0.52),
      ndcgDifference: interval(0.02, 40),
      ...(withJudged ? { userJudged: { queries: 1, base: metrics(0.3), tuned: metrics(0.25), ndcgDifference: interval(-0.05, 1) } } : {}),
    },
  };
}

describe('tune report for people', () => {
  it("adds the user's judgements: what was read, the teacher check and a second before/after table", () => {
    const text = formatTuneReport(report(true));
    expect(text).toContain('your judgements: 3 marks, 1 query with a relevant result (2 left out: their relevant passages changed since they were marked; 1 unreadable line skipped)');
    expect(text).toContain('teacher check on 1 query you judged: student nDCG@10 0.3000, teacher 0.4000');
    expect(text).toContain('queries you judged: 1\n| model | nDCG@10 | Recall@100 | MRR@10 |\n|---|---|---|---|\n| base | 0.3000 | 0.9000 | 0.2500 |\n| tuned | 0.2500 | 0.9000 | 0.2000 |');
  });

  it('has no judgement lines when the user judged nothing', () => {
    const text = formatTuneReport(report(false));
    expect(text).not.toContain('judged');
    expect(text).not.toContain('earlier run');
    expect(text).toContain('held-out queries: 40\n| model | nDCG@10 | Recall@100 | MRR@10 |\n|---|---|---|---|\n| base | 0.5000 | 0.9000 | 0.4500 |\n| tuned | 0.5200 | 0.9000 | 0.4700 |');
  });

  it('says where a fresh start moved the earlier run, which it keeps', () => {
    const text = formatTuneReport({ ...report(false), earlierRun: '/s/tune.old-2026-11-26T15-40-00-000Z' });
    expect(text.split('\n')[2]).toBe('the earlier run was moved to /s/tune.old-2026-11-26T15-40-00-000Z; delete it when you no longer need it');
  });
});
