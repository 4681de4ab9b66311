import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanRoots } from '../../../src/core/ingest/scanner';
import { fixture, scanAll, scanLines, type TreeEntry } from './tree';

/** Patterns that exercise git's rules: negation, anchoring, folder-only patterns, deeper files. */
const GIT_SEMANTICS_TREE: Record<string, TreeEntry> = {
  '.gitignore': ['# comment', '*.log', '!keep.log', '/build/', '/anchored.txt', 'cache/', 'docs/*.tmp', 'vendor/', '!vendor/keep.txt', 'out/', ''].join('\n'),
  'anchored.txt': 'a\n',
  'app.ts': 'export const x = 1;\n',
  'a.log': 'log\n',
  'keep.log': 'kept\n',
  'build/out.js': 'built\n',
  cache: 'a file named like an ignored folder\n',
  'docs/a.tmp': 'tmp\n',
  'docs/deep/b.tmp': 'deeper tmp\n',
  'docs/guide.md': '# Guide\n',
  'from-info.txt': 'excluded by .git/info/exclude\n',
  'local.txt': 'local\n',
  'nested/.gitignore': '!*.log\nlocal.txt\n',
  'nested/x.log': 'x\n',
  'nested/local.txt': 'local\n',
  'nested/deeper/y.log': 'y\n',
  'out/r.txt': 'r\n',
  'pkg/.gitignore': '!out/\n',
  'pkg/out/z.txt': 'z\n',
  'src/anchored.txt': 'a\n',
  'src/build/x.ts': 'export {};\n',
  'src/cache/y.ts': 'export {};\n',
  'vendor/keep.txt': 'cannot be re-included: its folder is excluded\n',
};

describe('scanRoots: git ignore rules', () => {
  it('honours nested .gitignore files and .git/info/exclude with git semantics', async () => {
    const root = fixture({ ...GIT_SEMANTICS_TREE, '.git/info/exclude': 'from-info.txt\n', '.git/HEAD': 'ref: refs/heads/main\n' });
    expect(await scanLines(root)).toEqual([
      '.git/ skip vcs folder',
      '.gitignore index text',
      'a.log skip gitignore',
      'anchored.txt skip gitignore',
      'app.ts index code:typescript',
      'build/ skip gitignore',
      'cache index text',
      'docs/a.tmp skip gitignore',
      'docs/deep/b.tmp index text',
      'docs/guide.md index markdown',
      'from-info.txt skip gitignore',
      'keep.log index text',
      'local.txt index text',
      'nested/.gitignore index text',
      'nested/deeper/y.log index text',
      'nested/local.txt skip gitignore',
      'nested/x.log index text',
      'out/ skip gitignore',
      'pkg/.gitignore index text',
      'pkg/out/z.txt index text',
      'src/anchored.txt index text',
      'src/build/x.ts index code:typescript',
      'src/cache/ skip gitignore',
      'vendor/ skip gitignore',
    ]);
  });

  const hasGit = (() => {
    try {
      execFileSync('git', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  /** Files git itself does not ignore, and files we do not skip for 'gitignore'. */
  async function compareWithGit(tree: Record<string, TreeEntry>, infoExclude = ''): Promise<{ git: string[]; ours: string[] }> {
    const root = fixture(tree);
    execFileSync('git', ['init', '-q'], { cwd: root });
    fs.writeFileSync(path.join(root, '.git', 'info', 'exclude'), infoExclude);
    const listed = execFileSync('git', ['-c', 'core.ignorecase=false', 'ls-files', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' });
    const decisions = await scanAll(root);
    return {
      git: listed.split('\0').filter(Boolean).sort(),
      ours: decisions.filter((d) => d.kind === 'file' && d.reason !== 'gitignore').map((d) => d.path).sort(),
    };
  }

  it.skipIf(!hasGit)('agrees with git itself on which files are ignored', async () => {
    const { git, ours } = await compareWithGit(GIT_SEMANTICS_TREE, 'from-info.txt\n');
    expect(git).toContain('pkg/out/z.txt');
    expect(ours).toEqual(git);
  });

  it.skipIf(!hasGit)('agrees with git on wildcards, escapes and re-included folders', async () => {
    const tree: Record<string, TreeEntry> = {
      '.gitignore': ['**/logs', 'a/**/z.txt', 'trail/**', '!trail/keep.md', '\\#hash.txt', '\\!bang.txt', '[abc].md', '*.o', '!important.o', 'docs/**/*.draft', 'spaced\\ ', 'with space.txt', '/root-only/', 'deep/**/tmp/', 'foo/*', '!foo/bar/', '*.TXT', ''].join('\n'),
      'sub/.gitignore': '/anchored-here\n!*.o\n',
    };
    const files = ['logs/x.txt', 'src/logs/y.txt', 'logs-file.txt', 'a/z.txt', 'a/b/z.txt', 'a/b/c/z.txt', 'trail/x.js', 'trail/keep.md', 'trail/sub/y.js', '#hash.txt', '!bang.txt', 'a.md', 'd.md', 'x.o', 'important.o', 'docs/x.draft', 'docs/a/b/y.draft', 'spaced ', 'with space.txt', 'root-only/r.txt', 'src/root-only/r.txt', 'deep/tmp/t.txt', 'deep/a/tmp/t.txt', 'foo/x.txt', 'foo/bar/y.txt', 'foo/baz/z.txt', 'UPPER.TXT', 'lower.txt', 'sub/anchored-here', 'sub/deeper/anchored-here', 'sub/y.o'];
    for (const file of files) tree[file] = `${file}\n`;
    const { git, ours } = await compareWithGit(tree);
    expect(git).toContain('foo/bar/y.txt');
    expect(ours).toEqual(git);
  });

  it('applies the .gitignore files above a root that is a sub-folder of a repository', async () => {
    const repo = fixture({
      '.git/info/exclude': '*.secretish\n',
      '.gitignore': 'dist/\n*.tmp\nignored-parent/\n',
      'packages/.gitignore': 'scratch.md\n',
      'packages/app/src/a.ts': 'export {};\n',
      'packages/app/dist/b.js': 'built\n',
      'packages/app/c.tmp': 'tmp\n',
      'packages/app/scratch.md': 'notes\n',
      'packages/app/d.secretish': 'x\n',
      'ignored-parent/chosen/e.md': '# Chosen explicitly\n',
    });
    expect(await scanLines(path.join(repo, 'packages', 'app'))).toEqual([
      'c.tmp skip gitignore',
      'd.secretish skip gitignore',
      'dist/ skip gitignore',
      'scratch.md skip gitignore',
      'src/a.ts index code:typescript',
    ]);
    // A root the user named is scanned even where a file above it ignores it.
    expect(await scanLines(path.join(repo, 'ignored-parent', 'chosen'))).toEqual(['e.md index markdown']);
  });
});

describe('scanRoots: built-in default ignores', () => {
  it('skips dependency and build folders without any ignore file, below every ignore file', async () => {
    const root = fixture({
      'node_modules/lib/index.js': 'module.exports = 1;\n',
      'packages/web/dist/app.js': 'console.log(1);\n',
      'src/main.ts': 'export const a = 1;\n',
      'target/keep/notes.md': '# Notes\n',
      '.gitignore': '!target/\n',
      '.venv/lib/site.py': 'x = 1\n',
    });
    expect(await scanLines(root, { defaultIgnores: true })).toEqual([
      '.gitignore index text',
      '.venv/ skip default ignore',
      'node_modules/ skip default ignore',
      'packages/web/dist/ skip default ignore',
      'src/main.ts index code:typescript',
      'target/keep/notes.md index markdown',
    ]);
  });
});

describe('scanRoots: linked worktrees', () => {
  it('reads info/exclude through a .git file and the common git folder', async () => {
    const base = fixture({
      'main-repo/.git/info/exclude': '*.local\n',
      'main-repo/.git/worktrees/wt/commondir': '../..\n',
      'wt/.git': 'gitdir: ../main-repo/.git/worktrees/wt\n',
      'wt/a.local': 'x\n',
      'wt/b.md': '# B\n',
    });
    expect(await scanLines(path.join(base, 'wt'))).toEqual(['.git skip vcs folder', 'a.local skip gitignore', 'b.md index markdown']);
  });
});

describe('scanRoots: .specializeignore', () => {
  it('re-includes git-ignored folders and files, and reaches into excluded folders only by path', async () => {
    const root = fixture({
      '.gitignore': 'build/\nvendor/\ngenerated/\nnotes.md\n',
      '.specializeignore': ['!build/', '!vendor/lib/', '!notes.md', 'docs/private/', '!docs/private/public.md', '*.snap', '!*.txt', '!.env', '!.git/', ''].join('\n'),
      '.env': 'API_KEY=123\n',
      '.git/HEAD': 'ref: refs/heads/main\n',
      'build/a.ts': 'export {};\n',
      'build/sub/b.ts': 'export {};\n',
      'docs/guide.md': '# Guide\n',
      'docs/private/plan.md': '# Plan\n',
      'docs/private/public.md': '# Public\n',
      'generated/x.ts': 'export {};\n',
      'notes.md': '# Notes\n',
      'snapshot.snap': 'snap\n',
      // Inside an excluded folder: never read, as git never reads ignore files there.
      'vendor/.specializeignore': '!*\n',
      'vendor/lib/c.ts': 'export {};\n',
      'vendor/other/d.ts': 'export {};\n',
      // `!*.txt` names no path, so it cannot reach into the excluded vendor/.
      'vendor/readme.txt': 'vendored\n',
    });
    expect(await scanLines(root)).toEqual([
      '.env skip secret',
      '.git/ skip vcs folder',
      '.gitignore index text',
      '.specializeignore index text',
      'build/a.ts index code:typescript',
      'build/sub/b.ts index code:typescript',
      'docs/guide.md index markdown',
      'docs/private/plan.md skip specializeignore',
      'docs/private/public.md index markdown',
      'generated/ skip gitignore',
      'notes.md index markdown',
      'snapshot.snap skip specializeignore',
      'vendor/.specializeignore skip gitignore',
      'vendor/lib/c.ts index code:typescript',
      'vendor/other/ skip gitignore',
      'vendor/readme.txt skip gitignore',
    ]);
  });

  it('lets a nested .specializeignore override a shallower one', async () => {
    const root = fixture({
      '.specializeignore': '*.md\n',
      'a.md': '# A\n',
      'keep/.specializeignore': '!*.md\n',
      'keep/b.md': '# B\n',
    });
    expect(await scanLines(root)).toEqual(['.specializeignore index text', 'a.md skip specializeignore', 'keep/.specializeignore index text', 'keep/b.md index markdown']);
  });
});

describe('scanRoots: include and exclude settings', () => {
  it('filters with include, removes with exclude, and neither overrides the other rules', async () => {
    const root = fixture({
      '.gitignore': 'ignored.md\n',
      '.specializeignore': '!src/gen/\n',
      'README.md': '# Readme\n',
      'docs/x.md': '# X\n',
      'ignored.md': '# Ignored\n',
      'scripts/s.sh': 'echo hi\n',
      'src/a.ts': 'export {};\n',
      'src/b.test.ts': 'test();\n',
      'src/gen/g.ts': 'export {};\n',
    });
    expect(await scanLines(root, { include: ['./src/', '*.md'], exclude: ['**/*.test.ts', './src/gen/'] })).toEqual([
      '.gitignore skip not included by settings',
      '.specializeignore skip not included by settings',
      'README.md index markdown',
      'docs/x.md index markdown',
      'ignored.md skip gitignore',
      'scripts/s.sh skip not included by settings',
      'src/a.ts index code:typescript',
      'src/b.test.ts skip excluded by settings',
      'src/gen/ skip excluded by settings',
    ]);
  });
});

describe('scanRoots: deny list', () => {
  it('never reads secrets or version-control folders, whatever the ignore files and settings say', async () => {
    const root = fixture({
      '.specializeignore': '!.env\n!*.pem\n!.git/\n!id_rsa\n!/config/\n',
      '.env': 'API_KEY=1\n',
      '.env.production': 'API_KEY=2\n',
      'config/.env.local': 'API_KEY=3\n',
      'server.pem': '-----BEGIN PRIVATE KEY-----\n',
      'tls.key': 'key\n',
      id_rsa: 'key\n',
      'id_rsa.pub': 'ssh-rsa AAAA\n',
      id_ed25519: 'key\n',
      'cert.p12': 'p12\n',
      'cert.pfx': 'pfx\n',
      credentials: '[default]\n',
      'credentials.json': '{}\n',
      'secrets.yaml': 'password: x\n',
      'app.keystore': 'ks\n',
      '.npmrc': '//registry.npmjs.org/:_authToken=abc\n',
      '.pypirc': '[pypi]\npassword = x\n',
      '.git/config': '[remote "origin"]\n',
      '.hg/store': 'x\n',
      '.svn/entries': 'x\n',
      '.ssh/config': 'Host x\n',
      'ok.txt': 'fine\n',
    });
    expect(await scanLines(root, { include: ['*'] })).toEqual([
      '.env skip secret',
      '.env.production skip secret',
      '.git/ skip vcs folder',
      '.hg/ skip vcs folder',
      '.npmrc skip secret',
      '.pypirc skip secret',
      '.specializeignore index text',
      '.ssh/ skip secret',
      '.svn/ skip vcs folder',
      'app.keystore skip secret',
      'cert.p12 skip secret',
      'cert.pfx skip secret',
      'config/.env.local skip secret',
      'credentials skip secret',
      'credentials.json skip secret',
      'id_ed25519 skip secret',
      'id_rsa skip secret',
      'id_rsa.pub skip secret',
      'ok.txt index text',
      'secrets.yaml skip secret',
      'server.pem skip secret',
      'tls.key skip secret',
    ]);
  });
});

describe('scanRoots: roots', () => {
  it('scans several roots in the given order, each entry naming its root', async () => {
    const first = fixture({ 'b.md': '# B\n', 'a.md': '# A\n' });
    const second = fixture({ 'a.md': '# Other A\n' });
    const decisions = await scanAll([second, first]);
    expect(decisions.map((d) => [d.root, d.path])).toEqual([
      [second, 'a.md'],
      [first, 'a.md'],
      [first, 'b.md'],
    ]);
  });

  it('scans a root inside another root once, as its own root, and a repeated root once', async () => {
    const outer = fixture({ 'a.md': '# A\n', 'inner/b.md': '# B\n' });
    const inner = path.join(outer, 'inner');
    const decisions = await scanAll([outer, inner, outer]);
    expect(decisions.map((d) => [d.root, d.path])).toEqual([
      [outer, 'a.md'],
      [inner, 'b.md'],
    ]);
  });

  it('rejects a missing root or a file with a fix, before scanning anything', async () => {
    const root = fixture({ 'file.md': '# F\n' });
    await expect(scanAll([root, path.join(root, 'missing')])).rejects.toMatchObject({ name: 'SpecializeError', code: 'not-found', fix: expect.stringContaining('Check the path') });
    await expect(scanAll(path.join(root, 'file.md'))).rejects.toMatchObject({ name: 'SpecializeError', code: 'invalid-input', message: expect.stringContaining('is a file, not a folder') });
    await expect(scanAll([])).rejects.toMatchObject({ name: 'SpecializeError' });
  });

  it('outputs paths sorted within a root, whatever the names', async () => {
    const root = fixture({ 'a.txt': 'x\n', 'a/b.txt': 'x\n', 'a-b.txt': 'x\n', 'A.txt': 'x\n', 'ä.txt': 'x\n', 'a b/c.txt': 'x\n', 'Z/z.txt': 'x\n' });
    const paths = (await scanAll(root)).map((d) => d.path);
    expect(paths).toEqual([...paths].sort());
    expect(paths).toHaveLength(7);
  });

  it('stops with a CancelledError when the signal fires', async () => {
    const root = fixture({ 'a.md': '# A\n', 'b.md': '# B\n' });
    const controller = new AbortController();
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const decision of scanRoots([root], { signal: controller.signal })) {
          seen.push(decision.path);
          controller.abort();
        }
      })(),
    ).rejects.toMatchObject({ code: 'cancelled' });
    expect(seen).toEqual(['a.md']);
  });
});
