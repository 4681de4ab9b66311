import { SpecializeError } from '../errors';
import { DEFAULT_MAX_PASSAGES } from '../synth/sampling';

/**
 * How much a tuning run spends. `small` is sized to finish a 1,500-document collection on two CPU
 * cores in well under an hour with the embedded LLM (about 1.5 queries/s there), `full` follows the
 * method (up to 100k passages, 4,096-query batches, 30 epochs with early stopping).
 */
export interface Budget {
  name: BudgetName;
  /** Passages sampled for query writing (after near-duplicate removal). */
  maxPassages: number;
  /** Passages held out; their queries are the synthetic evaluation set. */
  holdOut: number;
  /** Queries per passage and type. */
  perType: number;
  /** The largest training batch (queries per optimiser step); small runs use less, see `batchSizeFor`. */
  maxBatchSize: number;
  microBatch: number;
  epochs: number;
  patience: number;
}

export type BudgetName = 'small' | 'full';

export const BUDGETS: Record<BudgetName, Budget> = {
  small: { name: 'small', maxPassages: 400, holdOut: 60, perType: 1, maxBatchSize: 64, microBatch: 16, epochs: 6, patience: 2 },
  full: { name: 'full', maxPassages: DEFAULT_MAX_PASSAGES, holdOut: 100, perType: 1, maxBatchSize: 4096, microBatch: 16, epochs: 30, patience: 2 },
};

export function budgetNamed(name: string): Budget {
  const budget = (BUDGETS as Record<string, Budget | undefined>)[name];
  if (!budget) throw new SpecializeError(`Unknown budget "${name}".`, 'Use --budget small or --budget full.');
  return budget;
}

/** Optimiser steps an epoch should have at least, so warmup, decay and early stopping mean something. */
export const MIN_STEPS_PER_EPOCH = 8;

/**
 * The batch size for `trainQueries` training queries: the budget's (the method's 4,096 for `full`)
 * unless that leaves fewer than 8 steps an epoch, then the largest power of two that gives 8, but
 * at least 8 queries (the contrastive term needs in-batch negatives from other queries).
 */
export function batchSizeFor(trainQueries: number, budget: Budget): number {
  const fitting = 2 ** Math.floor(Math.log2(Math.max(1, trainQueries / MIN_STEPS_PER_EPOCH)));
  return Math.max(8, Math.min(budget.maxBatchSize, fitting));
}
