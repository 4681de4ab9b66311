/**
 * When a crashed trainer process is started again: at once-ish, then with exponential backoff, and
 * not at all once it has crashed more than `maxRestarts` times within `windowMs` (a process that
 * dies on start would otherwise loop forever).
 */
export interface RestartPolicy {
  /** Restarts allowed within `windowMs`; the next crash in the window gives up. */
  maxRestarts: number;
  windowMs: number;
  /** Delay before the first restart; doubles with each further crash in the window. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { maxRestarts: 3, windowMs: 60_000, initialDelayMs: 250, maxDelayMs: 8_000 };

export type RestartDecision = { restart: true; attempt: number; delayMs: number } | { restart: false; crashes: number };

export class RestartSupervisor {
  private crashes: number[] = [];

  constructor(
    readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a crash and decides what to do about it. */
  onCrash(): RestartDecision {
    const time = this.now();
    this.crashes = this.crashes.filter((crash) => time - crash < this.policy.windowMs);
    this.crashes.push(time);
    const attempt = this.crashes.length;
    if (attempt > this.policy.maxRestarts) return { restart: false, crashes: attempt };
    return { restart: true, attempt, delayMs: Math.min(this.policy.initialDelayMs * 2 ** (attempt - 1), this.policy.maxDelayMs) };
  }
}
