import type { BootstrapInterval } from '../eval/bootstrap';
import { judgedCount } from './userJudged';

/** What the evaluate stage measured, as far as the promotion rule needs it. */
export interface PromotionEvidence {
  /** tuned − base nDCG@10 on the held-out synthetic queries. */
  heldOut: BootstrapInterval;
  /** tuned − base nDCG@10 on the queries the user judged, when there are any. */
  userJudged?: BootstrapInterval;
}

/**
 * The promotion rule: the tuned model must gain on the held-out queries with a 95% interval above
 * zero, and, when the user has judged queries, must not lose on them on average. The user's queries
 * are few, so their interval would rarely exclude zero either way; their mean is a veto, not a
 * requirement: what the user said is relevant must not get harder to find.
 */
export function decidePromotion(evidence: PromotionEvidence): { promote: boolean; outcome: string } {
  const held = evidence.heldOut;
  const heldText = `${formatSigned(held.meanDifference)} nDCG@10, 95% interval [${formatSigned(held.low)}, ${formatSigned(held.high)}] on ${held.queries} held-out queries`;
  const user = evidence.userJudged;
  const userText = user ? `; ${formatSigned(user.meanDifference)} [${formatSigned(user.low)}, ${formatSigned(user.high)}] on the ${judgedCount(user.queries)} you judged` : '';
  if (!(held.meanDifference > 0 && held.low > 0)) {
    return { promote: false, outcome: `Not promoted: the base model stays active (${heldText}${userText}; promotion needs an interval above zero).` };
  }
  if (user && user.meanDifference < 0) {
    return { promote: false, outcome: `Not promoted: the base model stays active. The tuned model is better on the held-out queries (${heldText}) but worse on the ${judgedCount(user.queries)} you judged (${formatSigned(user.meanDifference)} nDCG@10).` };
  }
  return { promote: true, outcome: `Promoted: the tuned model is now active (${heldText}${userText}).` };
}

export function formatSigned(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(4)}`;
}
