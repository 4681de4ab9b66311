import ignore, { type Ignore } from 'ignore';

/**
 * Which files the ignore files and the `include`/`exclude` settings leave out, with git's rules:
 *
 * - Each `.gitignore` applies below its own folder; for one path, the deepest file with a matching
 *   pattern decides, and within a file the last matching pattern wins. `.git/info/exclude` (and the
 *   `.gitignore` files above a root, up to the top of its repository) rank below all of them.
 * - `.specializeignore` files use the same syntax and rank above every git file, so a negation in
 *   one re-includes what git ignores.
 * - Git never looks inside an excluded folder, so nothing in it can be re-included. The walk keeps
 *   that rule, with one exception: a `.specializeignore` negation that names a path inside an
 *   excluded folder (`!build/docs/`, `!vendor/lib/**`) makes the walk enter that folder; everything
 *   in it the negation does not match stays excluded, for the folder's reason. Negations without a
 *   path (`!*.md`, `!docs/`, or any that starts with `**`) do not reach into excluded folders, as
 *   in git: otherwise one `!*.md` would pull every README out of node_modules. Inside a folder
 *   entered this way, its own ignore files are not read (git would not read them either).
 *
 * Pattern syntax and matching come from the `ignore` package. It answers with git's parent rule
 * built in (a path under an ignored folder is ignored), but here a folder can be ignored by one
 * file and entered anyway because a deeper file or `.specializeignore` re-includes it; for paths
 * below such a folder the walk appends a literal negation of the folder to the file's rules, so
 * `ignore` judges them by their own path, exactly as git judges each path against every file.
 */

/** Where a rule came from: the reason reported when it excludes something. */
export type RuleSource = 'gitignore' | 'specializeignore' | 'default ignore';
export type RuleReason = RuleSource | 'excluded by settings';

export type RuleVerdict = { excluded: false } | { excluded: true; reason: RuleReason };

/** Git folds case where the file system does (core.ignorecase); so do we. */
const IGNORE_CASE = process.platform === 'darwin' || process.platform === 'win32';

function newMatcher(): Ignore {
  return ignore({ ignorecase: IGNORE_CASE });
}

/** The patterns of one ignore file, and the folder they are relative to. */
export class IgnoreLayer {
  private constructor(
    readonly source: RuleSource,
    /** Root-relative folder of the file ('' for the root, or for files above it). */
    readonly within: string,
    /** For files above the root: the path from their folder down to the root, with a trailing '/'. */
    readonly abovePrefix: string,
    /** Compiled rules; never tested directly (see `DirectoryRules`), only copied. */
    readonly rules: Ignore,
    /** The negations that name a path (see the module comment), as positive patterns. */
    readonly anchoredNegations: Ignore | undefined,
    /** The same negations split into path segments, to tell which excluded folders they reach into. */
    readonly reachingNegations: readonly (readonly string[])[],
  ) {}

  static fromFile(source: RuleSource, content: string, within: string, abovePrefix = ''): IgnoreLayer {
    const anchored = source === 'specializeignore' ? anchoredNegations(content) : [];
    const negations = anchored.length > 0 ? newMatcher().add(anchored) : undefined;
    return new IgnoreLayer(source, within, abovePrefix, newMatcher().add(content), negations, anchored.map(segmentsOf));
  }

  /** The path `rules` expect for a root-relative path below `within`. */
  pathFor(relativePath: string): string {
    return this.abovePrefix + (this.within === '' ? relativePath : relativePath.slice(this.within.length + 1));
  }

  /** The same rules with one root-relative folder re-included by itself (see the module comment). */
  reopened(folder: string): IgnoreLayer {
    return this.reopenedAt(this.pathFor(folder));
  }

  /** Same, for a folder given as a path relative to this file's folder (e.g. above the root). */
  reopenedAt(folderInLayer: string): IgnoreLayer {
    const negation = `!/${escapeLiteral(folderInLayer)}/`;
    const rules = newMatcher().add(this.rules).add(negation);
    return new IgnoreLayer(this.source, this.within, this.abovePrefix, rules, this.anchoredNegations, this.reachingNegations);
  }

  /** Whether these rules alone exclude a folder (given relative to this file's folder). */
  excludesFolderAt(folderInLayer: string): boolean {
    return this.rules.ignores(`${folderInLayer}/`);
  }
}

/**
 * Folders that are build output, dependencies or caches in nearly every project. They rank below
 * every git file (as if they were the lowest `.gitignore`), so a `.gitignore` or
 * `.specializeignore` negation brings any of them back.
 */
export const DEFAULT_IGNORES = [
  'node_modules/',
  'bower_components/',
  '.venv/',
  'venv/',
  '__pycache__/',
  '*.egg-info/',
  '.tox/',
  '.mypy_cache/',
  '.pytest_cache/',
  '.ruff_cache/',
  'dist/',
  'build/',
  'out/',
  'target/',
  'coverage/',
  '.next/',
  '.nuxt/',
  '.cache/',
  '.gradle/',
  '.idea/',
  '.specialize/',
];

export function defaultIgnoreLayer(): IgnoreLayer {
  return IgnoreLayer.fromFile('default ignore', DEFAULT_IGNORES.join('\n'), '');
}

/** The `include` / `exclude` settings, relative to each root. */
export interface SettingsRules {
  include?: Ignore;
  exclude?: Ignore;
}

export function compileSettings(include: readonly string[] | undefined, exclude: readonly string[] | undefined): SettingsRules {
  const rules: SettingsRules = {};
  const includes = cleanPatterns(include);
  const excludes = cleanPatterns(exclude);
  if (includes.length > 0) rules.include = newMatcher().add(includes);
  if (excludes.length > 0) rules.exclude = newMatcher().add(excludes);
  return rules;
}

function cleanPatterns(patterns: readonly string[] | undefined): string[] {
  return (patterns ?? []).map(withoutDotSlash).filter((pattern) => pattern.trim() !== '');
}

/** Settings are often written "./src/**": in gitignore syntax that would match nothing. */
function withoutDotSlash(pattern: string): string {
  return pattern.replace(/^(!?)(\.\/)+/, '$1');
}

/**
 * The rules in force in one folder. Each folder tests paths on fresh copies of the compiled rules:
 * `ignore` caches every path it is asked about, and over a large tree that cache would otherwise
 * grow with the tree instead of with one folder.
 */
export class DirectoryRules {
  private readonly specMatchers: Ignore[];
  private readonly gitMatchers: Ignore[];
  private readonly includeMatcher: Ignore | undefined;
  private readonly excludeMatcher: Ignore | undefined;

  private constructor(
    private readonly settings: SettingsRules,
    /** `.specializeignore` layers, shallowest first. */
    private readonly spec: readonly IgnoreLayer[],
    /** Git layers (info/exclude, then `.gitignore` files), shallowest first. */
    private readonly git: readonly IgnoreLayer[],
    /** Set while walking an excluded folder that a `.specializeignore` negation reaches into. */
    readonly inheritedExclusion: RuleSource | undefined,
  ) {
    this.specMatchers = spec.map((layer) => newMatcher().add(layer.rules));
    this.gitMatchers = git.map((layer) => newMatcher().add(layer.rules));
    this.includeMatcher = settings.include && newMatcher().add(settings.include);
    this.excludeMatcher = settings.exclude && newMatcher().add(settings.exclude);
  }

  static forRoot(settings: SettingsRules, gitLayersAboveAndAtRoot: readonly IgnoreLayer[]): DirectoryRules {
    return new DirectoryRules(settings, [], gitLayersAboveAndAtRoot, undefined);
  }

  /** Adds the ignore files found in this folder (root-relative `folder`). */
  withFiles(folder: string, files: { gitignore?: string; specializeignore?: string }): DirectoryRules {
    if (files.gitignore === undefined && files.specializeignore === undefined) return this;
    const git = files.gitignore === undefined ? this.git : [...this.git, IgnoreLayer.fromFile('gitignore', files.gitignore, folder)];
    const spec = files.specializeignore === undefined ? this.spec : [...this.spec, IgnoreLayer.fromFile('specializeignore', files.specializeignore, folder)];
    return new DirectoryRules(this.settings, spec, git, this.inheritedExclusion);
  }

  /** What the settings say about a path: they are absolute, nothing re-includes what they exclude. */
  excludedBySettings(relativePath: string, isDirectory: boolean): boolean {
    return this.excludeMatcher?.ignores(isDirectory ? `${relativePath}/` : relativePath) ?? false;
  }

  /** False when `include` is set and does not match this file (or a folder above it). */
  includedBySettings(relativePath: string): boolean {
    return this.includeMatcher ? this.includeMatcher.ignores(relativePath) : true;
  }

  /** The ignore files' verdict on one path (a file, or a folder when `isDirectory`). */
  decide(relativePath: string, isDirectory: boolean): RuleVerdict {
    const tested = isDirectory ? `${relativePath}/` : relativePath;
    for (let i = this.spec.length - 1; i >= 0; i -= 1) {
      const layer = this.spec[i] as IgnoreLayer;
      const result = (this.specMatchers[i] as Ignore).test(layer.pathFor(tested));
      if (result.ignored) return { excluded: true, reason: 'specializeignore' };
      if (!result.unignored) continue;
      // Inside an excluded folder only a negation that names the path brings it back.
      if (!this.inheritedExclusion || this.namedByNegation(layer, tested)) return { excluded: false };
    }
    if (this.inheritedExclusion) return { excluded: true, reason: this.inheritedExclusion };
    for (let i = this.git.length - 1; i >= 0; i -= 1) {
      const result = (this.gitMatchers[i] as Ignore).test((this.git[i] as IgnoreLayer).pathFor(tested));
      if (result.unignored) return { excluded: false };
      if (result.ignored) return { excluded: true, reason: (this.git[i] as IgnoreLayer).source };
    }
    return { excluded: false };
  }

  /** Rare (only inside excluded folders), so tested on the layer's own matcher, without a per-folder copy. */
  private namedByNegation(layer: IgnoreLayer, tested: string): boolean {
    return layer.anchoredNegations?.ignores(layer.pathFor(tested)) ?? false;
  }

  /**
   * Whether a `.specializeignore` negation names a path inside this excluded folder, so the walk
   * must look inside (see the module comment).
   */
  reachesInto(folder: string): boolean {
    return this.spec.some((layer) => {
      if (layer.reachingNegations.length === 0) return false;
      const segments = layer.pathFor(folder).split('/');
      return layer.reachingNegations.some((negation) => couldMatchBelow(negation, segments, 0, 0));
    });
  }

  /**
   * The rules for a sub-folder the walk enters. Every file that excludes the folder is told it is
   * open (see the module comment); `exclusion` is set when the folder stays excluded and is only
   * entered because a negation reaches into it.
   */
  enter(folder: string, exclusion?: RuleSource): DirectoryRules {
    const tested = `${folder}/`;
    const reopen = (layers: readonly IgnoreLayer[], matchers: Ignore[]) =>
      layers.map((layer, i) => ((matchers[i] as Ignore).test(layer.pathFor(tested)).ignored ? layer.reopened(folder) : layer));
    return new DirectoryRules(this.settings, reopen(this.spec, this.specMatchers), reopen(this.git, this.gitMatchers), exclusion);
  }
}

/**
 * The negations anchored to a path (a '/' before their end, and no leading '**'), without their
 * '!': the only ones allowed to reach into excluded folders.
 */
export function anchoredNegations(content: string): string[] {
  const negations: string[] = [];
  for (const raw of content.split(/\r?\n/)) {
    const line = raw.replace(/(?<!\\)\s+$/, '');
    if (!line.startsWith('!')) continue;
    const pattern = line.slice(1);
    const body = pattern.replace(/\/+$/, '');
    if ((body.startsWith('/') || body.includes('/')) && !body.startsWith('**')) negations.push(pattern);
  }
  return negations;
}

function segmentsOf(pattern: string): string[] {
  return pattern.replace(/^\/+|\/+$/g, '').split('/');
}

/**
 * Could `pattern` (segments) match something strictly below the folder `folder` (segments)? Only
 * an over-approximation is needed, since `ignore` makes the real decision on each path inside:
 * so a segment with any glob character is taken to match any name, which needs no glob matcher.
 */
function couldMatchBelow(pattern: readonly string[], folder: readonly string[], p: number, f: number): boolean {
  if (f === folder.length) return p < pattern.length;
  if (p === pattern.length) return false;
  const segment = pattern[p] as string;
  if (segment === '**') return couldMatchBelow(pattern, folder, p + 1, f) || couldMatchBelow(pattern, folder, p, f + 1);
  if (!/[*?[\\]/.test(segment) && !sameName(segment, folder[f] as string)) return false;
  return couldMatchBelow(pattern, folder, p + 1, f + 1);
}

function sameName(a: string, b: string): boolean {
  return IGNORE_CASE ? a.toLowerCase() === b.toLowerCase() : a === b;
}

/** A path as a gitignore pattern that matches only itself. */
function escapeLiteral(path: string): string {
  return path.replace(/[\\*?[\]]/g, '\\$&').replace(/ $/, '\\ ');
}
