import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SpecializeError } from '../errors';
import { ensureDir } from './ensureDir';

/**
 * The folder that holds Specialize's package.json. Found by walking up from this file, which sits in
 * `dist/` when bundled and in `src/core/util/` when tests run the sources.
 */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        if ((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'specialize') return dir;
      } catch {
        // Not ours; keep walking.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Cannot find Specialize's package.json above ${__dirname}`);
    dir = parent;
  }
}

/** Where downloaded and exported models live; `SPECIALIZE_HOME` overrides, else the XDG cache. */
export function specializeHome(): string {
  if (process.env.SPECIALIZE_HOME) return path.resolve(process.env.SPECIALIZE_HOME);
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'specialize');
}

/** Creates the cache folder if needed, turning any failure into one clear message. */
export async function ensureHome(home: string = specializeHome()): Promise<string> {
  try {
    await ensureDir(home);
    await fs.promises.access(home, fs.constants.W_OK);
  } catch (error) {
    throw new SpecializeError(
      `Cannot use ${home} as Specialize's cache folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
      'Set SPECIALIZE_HOME to a writable folder, or unset it to use ~/.cache/specialize.',
      'invalid-input',
    );
  }
  return home;
}

/** The bundled embedding worker; tests run sources, so they use the build in dist/. */
export function embedWorkerScript(): string {
  const beside = path.join(__dirname, 'embedWorker.js');
  if (fs.existsSync(beside)) return beside;
  const built = path.join(packageRoot(), 'dist', 'embedWorker.js');
  if (fs.existsSync(built)) return built;
  throw new Error(`The embedding worker is not built (${built} is missing). Run \`npm run build\`.`);
}
