/**
 * Collects changed paths and hands them over in batches: a burst of events (a save writes a temp
 * file and renames it; a branch switch touches hundreds of files) becomes one update once the
 * burst has been quiet for `debounceMs`. Updates never overlap; changes that arrive during one
 * wait for the next.
 */
export class ChangeBatcher {
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly apply: (paths: string[]) => Promise<void>,
    private readonly debounceMs: number,
  ) {}

  add(path: string): void {
    if (this.closed) return;
    this.pending.add(path);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.debounceMs);
  }

  /** Resolves once every change added so far has been applied. */
  async idle(): Promise<void> {
    while (this.timer || this.running || this.pending.size > 0) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
        await this.flush();
      } else if (this.running) {
        await this.running;
      } else {
        await this.flush();
      }
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    if (this.running) {
      await this.running;
      if (this.timer || this.pending.size === 0) return;
    }
    const paths = [...this.pending];
    this.pending = new Set();
    if (paths.length === 0) return;
    this.running = this.apply(paths).finally(() => (this.running = undefined));
    await this.running;
  }
}
