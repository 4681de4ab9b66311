import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * `mkdir -p` that always terminates. Node's `mkdir(…, { recursive: true })` spins forever on paths
 * where creation fails with ENOENT even though the parent exists (e.g. under /proc), which turned a
 * mistyped SPECIALIZE_HOME into a hang; creating one level at a time fails with the real error.
 */
export async function ensureDir(dir: string): Promise<void> {
  const missing: string[] = [];
  let current = path.resolve(dir);
  while (!fs.existsSync(current)) {
    missing.push(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const folder of missing.reverse()) {
    try {
      await fs.promises.mkdir(folder);
    } catch (error) {
      // Another process may have created it in the meantime.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
