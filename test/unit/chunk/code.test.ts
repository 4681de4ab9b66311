import { describe, expect, it } from 'vitest';
import { chunkFile } from '../../../src/core/ingest/chunk';
import { chunkCode } from '../../../src/core/ingest/chunk/code/chunkCode';
import { expectFaithful, fileLines, fixture, isExactCopy, options, outline, source } from './helpers';

/** Small enough that each fixture's class is summarised, big enough for its functions. */
const limits = options(120);

describe('code chunker: one realistic file per language', () => {
  const cases: [string, [number, number, string][]][] = [
    [
      'queue.ts',
      [
        [1, 4, 'MAX_ATTEMPTS'],
        [6, 41, 'Queue'],
        [13, 15, 'Queue.constructor'],
        [17, 24, 'Queue.claim'],
        [25, 32, 'Queue.claim'],
        [34, 40, 'Queue.size, Queue.push'],
        [43, 48, 'parseArgs'],
        [50, 52, 'handler'],
      ],
    ],
    [
      'Board.tsx',
      [
        [1, 7, 'BoardProps'],
        [9, 29, 'Board'],
        [13, 16, 'Board.visibleJobs'],
        [18, 28, 'Board.render'],
        [31, 35, 'SearchBox'],
      ],
    ],
    [
      'queue.js',
      [
        [1, 5, 'MAX_ATTEMPTS'],
        [7, 31, 'Queue'],
        [9, 26, 'Queue.constructor, Queue.claim'],
        [28, 30, 'Queue.size'],
        [33, 39, 'parseArgs'],
      ],
    ],
    [
      'queue.py',
      [
        [1, 5, 'MAX_ATTEMPTS'],
        [8, 34, 'Queue'],
        [15, 27, 'Queue.claim'],
        [29, 34, 'Queue.size, Queue.push'],
        [37, 45, 'parse_args'],
      ],
    ],
    [
      'queue.go',
      [
        [1, 16, 'MaxAttempts, Queue'],
        [18, 33, 'Queue.Claim'],
        [35, 43, 'Queue.Size, ParseArgs'],
      ],
    ],
    [
      'queue.rs',
      [
        [1, 12, 'MAX_ATTEMPTS, Queue'],
        [14, 39, 'Queue'],
        [15, 17, 'Queue.new'],
        [19, 34, 'Queue.claim'],
        [36, 38, 'Queue.size'],
        [41, 48, 'parse_args'],
      ],
    ],
    [
      'Queue.java',
      [
        [1, 6, 'Queue.java'],
        [8, 44, 'Queue'],
        [15, 29, 'Queue.claim'],
        [31, 43, 'Queue.size, Queue.parseArgs'],
      ],
    ],
    [
      'queue.c',
      [
        [1, 10, 'MAX_ATTEMPTS, queue'],
        [12, 16, 'queue_claim'],
        [17, 26, 'queue_claim'],
        [28, 39, 'queue_size, parse_args'],
      ],
    ],
    [
      'queue.cpp',
      [
        [1, 8, 'kMaxAttempts'],
        [10, 34, 'Queue'],
        [13, 27, 'Queue.Queue, Queue.Claim'],
        [36, 46, 'Queue.Size, ParseArgs'],
      ],
    ],
    [
      'Queue.cs',
      [
        [1, 39, 'Queue'],
        [14, 28, 'Queue.Claim'],
        [32, 37, 'Queue.ParseArgs'],
      ],
    ],
  ];

  it.each(cases)('%s: passages by symbol with exact ranges and titles', async (name, expected) => {
    const file = fixture(`code/${name}.txt`);
    const chunks = await chunkFile(file, limits);
    expect(outline(chunks)).toEqual(expected);
    expectFaithful(file, chunks, limits, { summaries: true });
  });

  it('puts the comment directly above a function into its passage', async () => {
    for (const [name, title, firstLine] of [
      ['queue.ts', 'parseArgs', '// Reads the worker count'],
      ['queue.py', 'parse_args', '# Reads the worker count'],
      ['queue.go', 'Queue.Claim', '// Claim claims'],
      ['queue.rs', 'parse_args', '// Reads the worker count'],
      ['Queue.java', 'Queue.claim', '    /** Claims the oldest job'],
      ['queue.c', 'queue_claim', '/* Claims the oldest job'],
      ['Queue.cs', 'Queue.ParseArgs', '        // Reads the worker count'],
    ] as const) {
      const chunk = (await chunkFile(fixture(`code/${name}.txt`), limits)).find((c) => c.title === title);
      expect(chunk?.text.startsWith(firstLine), `${name}: ${title}`).toBe(true);
    }
  });

  it('summarises a big class by its header, fields and member signatures (the one passage that is not a copy)', async () => {
    const file = fixture('code/queue.ts.txt');
    const summary = (await chunkFile(file, limits)).find((c) => c.title === 'Queue');
    if (!summary) throw new Error('no summary passage');
    expect(isExactCopy(summary, fileLines(file.text))).toBe(false);
    expect(summary.text).toBe(
      [
        '/**',
        ' * A queue of jobs persisted in memory, claimed one at a time by workers.',
        ' */',
        'export class Queue extends EventEmitter {',
        '  private readonly jobs: Job[] = [];',
        '  private claimed = new Set<string>();',
        '',
        '  constructor(private readonly name: string) {',
        '    ...',
        '  }',
        '',
        '  claim(worker: string): Job | undefined {',
        '    ...',
        '  }',
        '',
        '  get size(): number {',
        '    ...',
        '  }',
        '',
        '  push(job: Job): void {',
        '    ...',
        '  }',
        '}',
      ].join('\n'),
    );
  });

  it('keeps decorators and the class docstring in a Python class summary and folds method bodies', async () => {
    const summary = (await chunkFile(fixture('code/queue.py.txt'), limits)).find((c) => c.title === 'Queue');
    expect(summary?.text).toBe(
      [
        '@dataclass',
        'class Queue:',
        '    """Jobs persisted in memory, claimed one at a time by workers."""',
        '',
        '    name: str',
        '    jobs: list = field(default_factory=list)',
        '',
        '    def claim(self, worker):',
        '        ...',
        '',
        '    @property',
        '    def size(self):',
        '        ...',
        '',
        '    def push(self, job):',
        '        ...',
      ].join('\n'),
    );
  });

  it('keeps a class that fits in one passage whole, grouped with its small neighbours', async () => {
    const file = fixture('code/queue.py.txt');
    const generous = options(200);
    const chunks = await chunkFile(file, generous);
    expect(outline(chunks)).toEqual([
      [1, 34, 'MAX_ATTEMPTS, Queue'],
      [37, 45, 'parse_args'],
    ]);
    expectFaithful(file, chunks, generous);
  });

  it('splits a function too big for one passage into whole lines under its own title', async () => {
    const file = fixture('code/queue.c.txt');
    const chunks = (await chunkFile(file, limits)).filter((c) => c.title === 'queue_claim');
    expect(outline(chunks)).toEqual([
      [12, 16, 'queue_claim'],
      [17, 26, 'queue_claim'],
    ]);
  });

  it('opens namespaces and include guards and titles what is inside', async () => {
    const file = source(
      'guard.h',
      ['#ifndef QUEUE_H', '#define QUEUE_H', '', 'namespace jobs {', '', 'int claim(int id);', '', 'class Queue {', ' public:', '  int size() const { return 0; }', '};', '', '}  // namespace jobs', '', '#endif'].join('\n'),
    );
    const chunks = await chunkFile(file, options(200));
    expect(outline(chunks)).toEqual([[1, 15, 'QUEUE_H, claim, Queue']]);
  });

  it('prefixes members of Rust modules and TypeScript namespaces with the scope name', async () => {
    const rust = source('lib.rs', ['mod tests {', '    fn claims_oldest() {', '        assert!(true);', '    }', '}'].join('\n'));
    expect(outline(await chunkFile(rust, limits))).toEqual([[1, 5, 'tests.claims_oldest']]);
    const ts = source('ns.ts', ['namespace Jobs {', '  export function claim(): void {}', '}'].join('\n'));
    expect(outline(await chunkFile(ts, limits))).toEqual([[1, 3, 'Jobs.claim']]);
  });

  it('does not lose a line of a file with syntax errors, and keeps the symbols parsed around them', async () => {
    const file = fixture('code/broken.py.txt');
    const tight = options(40);
    const chunks = await chunkFile(file, tight);
    expect(outline(chunks)).toEqual([
      [1, 6, 'load'],
      [9, 13, 'broken.py'],
      [16, 21, 'Report'],
      [17, 18, 'Report.__init__'],
      [20, 21, 'Report.render'],
      [24, 25, 'main'],
    ]);
    expectFaithful(file, chunks, tight, { summaries: true });
    const typescript = fixture('code/broken.ts.txt');
    expectFaithful(typescript, await chunkFile(typescript, tight), tight, { summaries: true });
  });

  it('returns nothing for an empty or blank file', async () => {
    expect(await chunkFile(source('empty.py', ''), limits)).toEqual([]);
    expect(await chunkFile(source('blank.go', '\n\n   \n'), limits)).toEqual([]);
  });

  it('keeps a file of comments only as one passage', async () => {
    const file = source('notes.rs', '// one\n// two\n');
    expect(outline(await chunkFile(file, limits))).toEqual([[1, 2, 'notes.rs']]);
  });

  it('can be called directly with a grammar', async () => {
    const chunks = await chunkCode(source('script', 'def main():\n    pass\n'), 'python', limits);
    expect(outline(chunks)).toEqual([[1, 2, 'main']]);
  });
});
