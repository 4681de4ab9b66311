import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './env';

/** A function of about 120 tokens, so a few of them fill a 256-token passage. */
function pythonFunction(name: string): string {
  const body = Array.from({ length: 8 }, (_, i) => `    step_${i} = compute_${name}_part(value, ${i}) + offset_${i}  # accumulate partial result ${i}`);
  return [`def ${name}(value, offset):`, `    """Compute ${name} for the scheduler's retry queue."""`, ...body, `    return step_7`, ''].join('\n');
}

/**
 * A workspace exercising ingestion end to end: nested ignore rules with a negation, a
 * .specializeignore re-inclusion, a secret, a binary, a minified file, a symlink loop, a notebook,
 * Markdown and code in two languages, one of them long enough to be cut by symbols.
 */
export function buildIngestTree(): string {
  const root = tempDir('ingest-tree-');
  const files: Record<string, string | Buffer> = {
    '.gitignore': 'build/\n*.log\n!keep.log\n',
    '.specializeignore': '!build/docs/\n',
    '.env': 'SECRET_TOKEN=1\n',
    'logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]),
    'app.min.js': `x=1;${'a'.repeat(3000)}\n`,
    'debug.log': 'debug\n',
    'keep.log': 'kept\n',
    'build/docs/api.md': '# Build docs\n\nGenerated API guide.\n',
    'build/out.txt': 'junk\n',
    'docs/guide.md': '# Guide\n\nIntro paragraph.\n\n## Install\n\nRun the installer.\n\n## Configure\n\nSet the options.\n',
    'src/pkg/steps.py': ['"""Retry computations."""', '', ...['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'].map(pythonFunction)].join('\n'),
    'src/pkg/client.ts':
      "import { request } from './http';\n\nexport class Client {\n  constructor(private readonly base: string) {}\n\n  async enqueue(job: string): Promise<void> {\n    await request(`${this.base}/jobs`, job);\n  }\n}\n",
    'notebooks/latency.ipynb': `${JSON.stringify(
      {
        cells: [
          { cell_type: 'markdown', metadata: {}, source: ['# Latency\n', 'How long jobs wait.'] },
          { cell_type: 'code', execution_count: 1, metadata: {}, outputs: [{ name: 'stdout', output_type: 'stream', text: ['42\n'] }], source: ['print(42)'] },
        ],
        metadata: {},
        nbformat: 4,
        nbformat_minor: 5,
      },
      null,
      1,
    )}\n`,
  };
  for (const [relative, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
    fs.writeFileSync(path.join(root, relative), content);
  }
  fs.symlinkSync('..', path.join(root, 'src', 'loop'));
  return root;
}
