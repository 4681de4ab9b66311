import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ScanOptions } from '../core/ingest/types';
import { WorkspaceIndex } from '../core/workspaceIndex';

/**
 * Keeps the workspace's index (store, model, embedder) open between searches and updates, so a
 * query costs a search and a saved file costs one small update, not a model load. Reopened after
 * the folders change.
 */
export class SearchSession {
  private opened: Promise<WorkspaceIndex> | undefined;

  constructor(
    private readonly storeDir: () => string | undefined,
    private readonly folders: () => string[],
    private readonly scan: () => ScanOptions,
  ) {}

  /** Whether an index has been built for this workspace. */
  hasIndex(): boolean {
    const dir = this.storeDir();
    return dir !== undefined && fs.existsSync(path.join(dir, 'store.json'));
  }

  async get(): Promise<WorkspaceIndex> {
    const dir = this.storeDir();
    if (!dir) throw new Error('no workspace storage');
    if (!this.opened) {
      this.opened = WorkspaceIndex.open({ folders: this.folders(), storeDir: dir, ...this.scan() });
      // A failed open must not be cached: the next call tries again.
      this.opened.catch(() => (this.opened = undefined));
    }
    return this.opened;
  }

  /** The open index, if any (for watchers, which should not open one just to update it). */
  async current(): Promise<WorkspaceIndex | undefined> {
    return this.opened?.catch(() => undefined);
  }

  async invalidate(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    if (opened) await (await opened.catch(() => undefined))?.close();
  }
}
