import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Tests run the sources, but worker threads and CLI tests need the bundle; build it once. The
 * Python environment and the default model come from `npm run setup`, which the test command runs.
 *
 * Every temporary folder of the run lives under one root that is removed at the end, even when a
 * test file's worker was killed before its own clean-up: the tune tests alone write about half a
 * gigabyte per store, and leaked folders once filled the disk CI shares with everything else.
 */
export default function setup(): () => void {
  const root = path.resolve(__dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'esbuild.js')], { cwd: root, stdio: 'inherit' });
  if (!fs.existsSync(path.join(root, '.venv'))) {
    throw new Error('The Python environment .venv is missing: run `npm run setup` (or `npm run test:all`).');
  }
  const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'specialize-vitest-'));
  // The workers start after global setup and inherit this, and so do the processes tests start (CLI,
  // trainer, torchrun's agent): os.tmpdir() and every temporary file of the run are under the root.
  process.env.TMPDIR = tempRoot;
  return () => fs.rmSync(tempRoot, { recursive: true, force: true });
}
