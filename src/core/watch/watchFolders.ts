import * as path from 'node:path';
import watcher from '@parcel/watcher';
import type { IndexReport, WorkspaceIndex } from '../workspaceIndex';
import { ChangeBatcher } from './changeBatcher';

export interface WatchOptions {
  /** Quiet time after the last event before an update runs. */
  debounceMs?: number;
  onUpdate?: (report: IndexReport, paths: string[]) => void;
  onError?: (error: unknown) => void;
}

export interface FolderWatch {
  /** Resolves when every change seen so far is indexed. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Short enough that a saved file is searchable within a second, long enough to fold a save's events. */
export const DEFAULT_DEBOUNCE_MS = 150;

/**
 * Keeps an index current with the files under its roots (the VS Code extension feeds its own
 * watcher into `WorkspaceIndex` instead). Uses @parcel/watcher, the native watcher VS Code itself
 * uses: Node's recursive `fs.watch` on Linux sets up its per-folder watches asynchronously and
 * missed files written right after it started. Resolves once the watches are in place. Events in
 * version-control folders and in the store itself are ignored.
 */
export async function watchFolders(index: WorkspaceIndex, options: WatchOptions = {}): Promise<FolderWatch> {
  const batcher = new ChangeBatcher(async (paths) => {
    try {
      // Not `onUpdate?.(await index.update(…))`: optional chaining would skip the update itself.
      const report = await index.update(paths);
      options.onUpdate?.(report, paths);
    } catch (error) {
      options.onError?.(error);
    }
  }, options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
  const storeDir = path.resolve(index.store.dir);
  const subscriptions = await Promise.all(
    index.roots.map((root) =>
      watcher.subscribe(
        root,
        (error, events) => {
          if (error) options.onError?.(error);
          for (const event of events) {
            if (event.path === storeDir || event.path.startsWith(`${storeDir}${path.sep}`)) continue;
            batcher.add(event.path);
          }
        },
        { ignore: ['.git', '.hg', '.svn'] },
      ),
    ),
  );
  return {
    idle: () => batcher.idle(),
    close: async () => {
      batcher.close();
      await Promise.all(subscriptions.map((subscription) => subscription.unsubscribe()));
    },
  };
}
