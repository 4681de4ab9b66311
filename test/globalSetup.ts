import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Tests run the sources, but worker threads and CLI tests need the bundle; build it once. The
 * Python environment and the default model come from `npm run setup`, which the test command runs.
 */
export default function setup(): void {
  const root = path.resolve(__dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'esbuild.js')], { cwd: root, stdio: 'inherit' });
  if (!fs.existsSync(path.join(root, '.venv'))) {
    throw new Error('The Python environment .venv is missing: run `npm run setup` (or `npm run test:all`).');
  }
}
