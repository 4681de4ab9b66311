import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpecializeError } from '../../errors';

/** A folder to scan: as the user named it (made absolute), and where it really is. */
export interface ScanRoot {
  /** `path.resolve` of the given folder: what decisions report as their root. */
  path: string;
  /** Its real path (symlinks resolved): what containment and loop checks compare. */
  real: string;
}

/**
 * Checks every root before anything is scanned, so a typo fails fast with a fix instead of after
 * minutes of work. The same folder named twice is scanned once.
 */
export async function resolveRoots(roots: readonly string[]): Promise<ScanRoot[]> {
  if (roots.length === 0) throw new SpecializeError('No folder to scan was given.', 'Name at least one folder to index.', 'invalid-input');
  const resolved: ScanRoot[] = [];
  for (const given of roots) {
    const absolute = path.resolve(given);
    let real: string;
    try {
      real = await fs.promises.realpath(absolute);
    } catch (error) {
      throw rootError(absolute, error);
    }
    const stat = await fs.promises.stat(real).catch((error: unknown) => {
      throw rootError(absolute, error);
    });
    if (!stat.isDirectory()) {
      throw new SpecializeError(`${absolute} is a file, not a folder.`, `Name the folder that contains it (${path.dirname(absolute)}), or use include settings to pick files.`, 'invalid-input');
    }
    if (!resolved.some((root) => root.real === real)) resolved.push({ path: absolute, real });
  }
  return resolved;
}

function rootError(absolute: string, error: unknown): SpecializeError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new SpecializeError(`The folder ${absolute} does not exist.`, 'Check the path (relative paths start from the current folder), or remove it from the folders to index.', 'not-found');
  }
  if (code === 'ELOOP') return new SpecializeError(`The folder ${absolute} is a symlink that points to itself.`, 'Fix or remove the symlink, or name the real folder.', 'invalid-input');
  return new SpecializeError(`The folder ${absolute} cannot be read (${code ?? String(error)}).`, 'Check its permissions, or name another folder.', 'invalid-input');
}

/** The root whose real path contains `realPath`, if any. */
export function containingRoot(realPath: string, roots: readonly ScanRoot[]): ScanRoot | undefined {
  return roots.find((root) => realPath === root.real || realPath.startsWith(root.real.endsWith(path.sep) ? root.real : root.real + path.sep));
}

/** `realPath` relative to a root containing it, with forward slashes. */
export function relativeToRoot(realPath: string, root: ScanRoot): string {
  return path.relative(root.real, realPath).split(path.sep).join('/');
}
