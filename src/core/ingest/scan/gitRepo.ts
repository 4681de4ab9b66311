import * as fs from 'node:fs';
import * as path from 'node:path';
import { IgnoreLayer } from '../ignoreRules';

/**
 * The git rules that apply to a root before its own `.gitignore` files: the repository's
 * `info/exclude`, and when the root is a sub-folder of a repository (a VS Code window opened on
 * `repo/packages/app`), the `.gitignore` files of the folders between the repository's top and
 * the root, as git itself would apply them. The user's global excludes file is not read: it
 * describes one person's machine, not the project.
 */
export async function gitLayersAboveRoot(rootReal: string): Promise<IgnoreLayer[]> {
  const top = await findRepositoryTop(rootReal);
  if (top === undefined) return [];
  const fromTop = path.relative(top.dir, rootReal).split(path.sep).filter(Boolean);
  const layers: IgnoreLayer[] = [];
  const exclude = await readText(path.join(top.gitDir, 'info', 'exclude'));
  if (exclude !== undefined) layers.push(IgnoreLayer.fromFile('gitignore', exclude, '', prefixOf(fromTop)));
  // The root's own .gitignore is read by the walk, like every folder's; these are the ones above it.
  for (let depth = 0; depth < fromTop.length; depth += 1) {
    const content = await readText(path.join(top.dir, ...fromTop.slice(0, depth), '.gitignore'));
    if (content !== undefined) layers.push(IgnoreLayer.fromFile('gitignore', content, '', prefixOf(fromTop.slice(depth))));
  }
  return layers.map(reopenPathToRoot);
}

/**
 * The user chose the root, so it is scanned even if a file above it ignores it (or a folder on the
 * way to it): each such folder is re-opened so its contents are judged on their own paths.
 */
function reopenPathToRoot(layer: IgnoreLayer): IgnoreLayer {
  const below = layer.abovePrefix.split('/').filter(Boolean);
  let reopened = layer;
  for (let depth = 1; depth <= below.length; depth += 1) {
    const folder = below.slice(0, depth).join('/');
    if (reopened.excludesFolderAt(folder)) reopened = reopened.reopenedAt(folder);
  }
  return reopened;
}

function prefixOf(segments: readonly string[]): string {
  return segments.length === 0 ? '' : `${segments.join('/')}/`;
}

interface RepositoryTop {
  /** The work tree's top folder. */
  dir: string;
  /** Where `info/exclude` lives (the common git dir for linked worktrees). */
  gitDir: string;
}

async function findRepositoryTop(start: string): Promise<RepositoryTop | undefined> {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const dotGit = path.join(dir, '.git');
    const stat = await fs.promises.lstat(dotGit).catch(() => undefined);
    if (stat?.isDirectory()) return { dir, gitDir: dotGit };
    if (stat?.isFile()) return { dir, gitDir: await linkedGitDir(dir, dotGit) };
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Worktrees and submodules have a `.git` file ("gitdir: <path>"); worktrees share `commondir`'s excludes. */
async function linkedGitDir(dir: string, dotGitFile: string): Promise<string> {
  const pointer = (await readText(dotGitFile))?.match(/^gitdir:\s*(.+?)\s*$/m)?.[1];
  if (pointer === undefined) return dotGitFile;
  const gitDir = path.resolve(dir, pointer);
  const common = (await readText(path.join(gitDir, 'commondir')))?.trim();
  return common ? path.resolve(gitDir, common) : gitDir;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.promises.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}
