import { SpecializeError } from '../errors';
import { DEFAULT_MAX_PASSAGES } from '../synth/sampling';

/**
 * How much a tuning run spends. `small` is sized to tune on a 1,500-document collection on two CPU
 * cores in well under 45 minutes with the embedded LLM (about 1.5 queries/s there), `full` follows the
 * method (up to 100k passages, 20 candidates of 512 tokens, 4,096-query batches, 30 epochs with early
 * stopping).
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
  epochs: number;
  patience: number;
  /** Candidates per training query (the method: 20; the source plus the teacher's hardest negatives). */
  candidates: number;
  /** Passage length in training, in tokens (the method: 512 or the model's limit). */
  passageMaxTokens: number;
}

export type BudgetName = 'small' | 'full';

export const BUDGETS: Record<BudgetName, Budget> = {
  // On two CPU cores one training step of 8 queries x 20 candidates x 256 tokens takes ~25 s, so the
  // small budget trains on lists of 8 (~2.5x cheaper) and writes queries for 100 passages (a few
  // minutes with the embedded LLM); it is a quick look, the full budget is the method.
  small: { name: 'small', maxPassages: 100, holdOut: 30, perType: 1, maxBatchSize: 64, epochs: 4, patience: 2, candidates: 8, passageMaxTokens: 256 },
  full: { name: 'full', maxPassages: DEFAULT_MAX_PASSAGES, holdOut: 100, perType: 1, maxBatchSize: 4096, epochs: 30, patience: 2, candidates: 20, passageMaxTokens: 512 },
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

/** A named budget with any of its sizes overridden (the CLI's --max-passages, --hold-out, --epochs). */
export function budgetWith(name: string, overrides: { maxPassages?: number | undefined; holdOut?: number | undefined; epochs?: number | undefined }): Budget {
  return {
    ...budgetNamed(name),
    ...(overrides.maxPassages ? { maxPassages: overrides.maxPassages } : {}),
    ...(overrides.holdOut ? { holdOut: overrides.holdOut } : {}),
    ...(overrides.epochs ? { epochs: overrides.epochs } : {}),
  };
}

/** The method's learning rate, for its batches of 4,096 queries. */
export const METHOD_LR = 2e-4;
export const METHOD_BATCH_SIZE = 4096;

/**
 * The learning rate for a smaller batch: the method's 2e-4 scaled by the square root of the batch
 * ratio (the usual rule for Adam), so 4,096 keeps 2e-4 and 64 gets 2.5e-5. At the method's rate a
 * batch of 8 moved the student far in a dozen steps and made it worse on human queries.
 */
export function learningRateFor(batchSize: number): number {
  return METHOD_LR * Math.sqrt(Math.min(1, batchSize / METHOD_BATCH_SIZE));
}
