import * as fs from 'node:fs';
import * as path from 'node:path';
import { openSearch, type OpenedSearch } from '../core/indexFolders';

/**
 * Keeps one opened index (store, model and searcher) alive between searches, so a query costs a
 * search rather than a model load. Indexing invalidates it; the next search reopens.
 */
export class SearchSession {
  private opened: Promise<OpenedSearch> | undefined;

  constructor(private readonly storeDir: () => string | undefined) {}

  /** Whether an index has been built for this workspace. */
  hasIndex(): boolean {
    const dir = this.storeDir();
    return dir !== undefined && fs.existsSync(path.join(dir, 'store.json'));
  }

  async get(): Promise<OpenedSearch> {
    const dir = this.storeDir();
    if (!dir) throw new Error('no workspace storage');
    if (!this.opened) {
      this.opened = openSearch(dir, { needsModel: true });
      // A failed open must not be cached: the next search tries again.
      this.opened.catch(() => (this.opened = undefined));
    }
    return this.opened;
  }

  async invalidate(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    if (opened) await (await opened.catch(() => undefined))?.close();
  }
}
