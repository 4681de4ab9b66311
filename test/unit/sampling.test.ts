import { describe, expect, it } from 'vitest';
import { allocateProportionally, fileTypeOf, samplePassages, seededShuffle, stratumOf } from '../../src/core/synth/sampling';
import { mulberry32 } from '../../src/core/util/random';
import type { StoredPassage } from '../../src/core/store/schema';

/** Four letters per number: texts built from these are distinct and never contain one another. */
function code(i: number): string {
  let letters = '';
  for (let n = i, place = 0; place < 4; place += 1, n = Math.floor(n / 26)) letters = String.fromCharCode(97 + (n % 26)) + letters;
  return letters;
}

let serial = 0;
function passage(root: string, file: string, text?: string): StoredPassage {
  serial += 1;
  const id = `${root}/${file}#${code(serial)}`;
  return { id, hash: id, root, path: file, title: file, text: text ?? `passage x${code(serial)}y about x${code(serial + 7000)}y`, start_line: 1, end_line: 2 };
}

function many(count: number, root: string, file: (i: number) => string): StoredPassage[] {
  return Array.from({ length: count }, (_, i) => passage(root, file(i)));
}

const ids = (passages: readonly StoredPassage[]) => passages.map((x) => x.id);

describe('fileTypeOf and stratumOf', () => {
  it('uses the lowercased extension, or the file name when there is none', () => {
    expect(fileTypeOf('src/app/Main.TS')).toBe('.ts');
    expect(fileTypeOf('Makefile')).toBe('Makefile');
    expect(fileTypeOf('tools/Dockerfile')).toBe('Dockerfile');
    expect(fileTypeOf('archive.tar.gz')).toBe('.gz');
    expect(fileTypeOf('.gitignore')).toBe('.gitignore');
    expect(fileTypeOf('docs\\guide.MD')).toBe('.md');
    expect(stratumOf({ root: '/ws/api', path: 'src/x.py' })).toBe('/ws/api · .py');
  });
});

describe('allocateProportionally', () => {
  it('gives floors of the exact shares and the rest to the largest remainders', () => {
    expect(allocateProportionally([50, 30, 20], 10, { atLeastOne: false })).toEqual([5, 3, 2]);
    // Shares 3.5, 2.1, 1.4: floors 3, 2, 1 and the one left over goes to the .5.
    expect(allocateProportionally([5, 3, 2], 7, { atLeastOne: false })).toEqual([4, 2, 1]);
    // Equal remainders: the earlier group.
    expect(allocateProportionally([5, 5, 5], 2, { atLeastOne: false })).toEqual([1, 1, 0]);
  });

  it('gives each non-empty group one first when asked and the budget allows', () => {
    // Plain shares would be 9, 0.9, 0.1 → [9, 1, 0].
    expect(allocateProportionally([90, 9, 1], 10, { atLeastOne: false })).toEqual([9, 1, 0]);
    // One each, then 7 shared over what remains (89, 8, 0): 6.42 and 0.58 → 6+1 and 0+1.
    expect(allocateProportionally([90, 9, 1], 10, { atLeastOne: true })).toEqual([7, 2, 1]);
    // Fewer units than groups: plain proportional shares, no minimum.
    expect(allocateProportionally([90, 9, 1], 2, { atLeastOne: true })).toEqual([2, 0, 0]);
    expect(allocateProportionally([4, 0, 3], 2, { atLeastOne: true })).toEqual([1, 0, 1]);
  });

  it('spends exactly the budget and never gives a group more than its size', () => {
    const random = mulberry32(7);
    for (let trial = 0; trial < 500; trial += 1) {
      const sizes = Array.from({ length: 1 + Math.floor(random() * 12) }, () => Math.floor(random() * (random() < 0.3 ? 3 : 200)));
      const total = sizes.reduce((a, b) => a + b, 0);
      const budget = Math.floor(random() * (total + 5));
      for (const atLeastOne of [false, true]) {
        const counts = allocateProportionally(sizes, budget, { atLeastOne });
        expect(counts.reduce((a, b) => a + b, 0)).toBe(Math.min(budget, total));
        counts.forEach((count, i) => {
          expect(count).toBeGreaterThanOrEqual(0);
          expect(count).toBeLessThanOrEqual(sizes[i] as number);
        });
        const nonEmpty = sizes.filter((s) => s > 0).length;
        if (atLeastOne && budget >= nonEmpty) sizes.forEach((size, i) => size > 0 && expect(counts[i]).toBeGreaterThanOrEqual(1));
      }
    }
  });
});

describe('seededShuffle', () => {
  it('is a permutation, the same for a seed and different across seeds', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const a = seededShuffle(items, 42);
    expect([...a].sort((x, y) => x - y)).toEqual(items);
    expect(seededShuffle(items, 42)).toEqual(a);
    expect(seededShuffle(items, 43)).not.toEqual(a);
    expect(items[0]).toBe(0);
  });
});

describe('samplePassages', () => {
  const corpus = [
    ...many(600, '/ws', (i) => `src/file${code(i % 40)}.ts`),
    ...many(300, '/ws', (i) => `docs/page${code(i % 10)}.md`),
    ...many(90, '/other', (i) => `notes${code(i)}.txt`),
    ...many(9, '/ws', () => 'Makefile'),
    passage('/ws', 'config/app.yaml'),
  ];

  it('samples strata in proportion, with at least one per stratum', () => {
    const { train, heldOut, tally } = samplePassages(corpus, { maxPassages: 200, holdOut: 20 });
    expect(tally).toMatchObject({ total: 1000, tooShort: 0, nearDuplicate: 0, sampled: 200, heldOut: 20 });
    // One each for the five strata, then 195 shared over 599, 299, 89, 8, 0 (of 995): shares 117.39,
    // 58.60, 17.44, 1.57, 0 → floors 117, 58, 17, 1, and the two left over to .60 and .57.
    expect(tally.strata).toEqual({ '/ws · .ts': 118, '/ws · .md': 60, '/other · .txt': 18, '/ws · Makefile': 3, '/ws · .yaml': 1 });
    expect(train.length + heldOut.length).toBe(200);
    const sampledStrata = new Map<string, number>();
    for (const x of [...train, ...heldOut]) sampledStrata.set(stratumOf(x), (sampledStrata.get(stratumOf(x)) ?? 0) + 1);
    expect(Object.fromEntries(sampledStrata)).toEqual(tally.strata);
  });

  it('holds out a stratified set disjoint from training, never a stratum whole', () => {
    const { train, heldOut, tally } = samplePassages(corpus, { maxPassages: 200, holdOut: 20 });
    const trainIds = new Set(ids(train));
    expect(heldOut.filter((x) => trainIds.has(x.id))).toEqual([]);
    expect(new Set([...ids(train), ...ids(heldOut)]).size).toBe(200);
    const heldPerStratum = new Map<string, number>();
    for (const x of heldOut) heldPerStratum.set(stratumOf(x), (heldPerStratum.get(stratumOf(x)) ?? 0) + 1);
    // In proportion to the sample's held-out capacities 117, 59, 17, 2, 0 (each stratum keeps one to
    // train on): shares 12.0, 6.05, 1.74, 0.21 → 12, 6, 1 + the one left over, 0.
    expect(Object.fromEntries(heldPerStratum)).toEqual({ '/ws · .ts': 12, '/ws · .md': 6, '/other · .txt': 2 });
    expect(tally.heldOut).toBe(20);
  });

  it('never holds out the only passage of a stratum', () => {
    // Plain shares would give the big stratum 0.8 and each single-file stratum 0.2: the second
    // unit would go to a stratum that then has nothing left to train on.
    const input = [...many(4, '/ws', (i) => `big${code(i)}.py`), ...many(6, '/ws', (i) => `single.x${code(i)}`)];
    const { train, heldOut } = samplePassages(input, { holdOut: 2 });
    expect(heldOut.map((x) => fileTypeOf(x.path))).toEqual(['.py', '.py']);
    expect(train).toHaveLength(8);
  });

  it('gives the same sample for the same seed whatever the input order, and another for another seed', () => {
    const reference = samplePassages(corpus, { maxPassages: 150, holdOut: 10, seed: 7 });
    for (const shuffleSeed of [1, 2]) {
      const again = samplePassages(seededShuffle(corpus, shuffleSeed), { maxPassages: 150, holdOut: 10, seed: 7 });
      expect(ids(again.train)).toEqual(ids(reference.train));
      expect(ids(again.heldOut)).toEqual(ids(reference.heldOut));
      expect(again.tally).toEqual(reference.tally);
    }
    const other = samplePassages(corpus, { maxPassages: 150, holdOut: 10, seed: 8 });
    expect(ids(other.train)).not.toEqual(ids(reference.train));
    expect(other.tally.strata).toEqual(reference.tally.strata);
    // Sorted by id, so downstream files are stable too.
    expect(ids(reference.train)).toEqual([...ids(reference.train)].sort());
  });

  it('takes everything when the corpus is under the budget, and holds out the default 100', () => {
    const { train, heldOut, tally } = samplePassages(corpus);
    expect(tally.sampled).toBe(1000);
    expect(heldOut).toHaveLength(100);
    expect(train).toHaveLength(900);
  });

  it('holds out at most 20% of a small corpus', () => {
    expect(samplePassages(corpus.slice(0, 120), { holdOut: 100 }).heldOut).toHaveLength(24);
    expect(samplePassages(corpus.slice(0, 499), { holdOut: 100 }).heldOut).toHaveLength(99);
    // From holdOut × 5 passages on, the full hold-out.
    expect(samplePassages(corpus.slice(0, 500), { holdOut: 100 }).heldOut).toHaveLength(100);
    expect(samplePassages(corpus.slice(0, 4), { holdOut: 100 }).heldOut).toHaveLength(0);
  });

  it('samples only after removing too-short passages and near-duplicates', () => {
    const original = passage('/ws', 'a.md', 'The worker drains the queue before it exits on SIGTERM.');
    const input = [original, passage('/ws', 'b.md', 'the worker drains the queue'), passage('/ws', 'c.md', 'ok: 1, 2, 3.'), ...many(20, '/ws', (i) => `n${code(i)}.md`)];
    const { train, heldOut, tally } = samplePassages(input, { holdOut: 2 });
    expect(tally).toMatchObject({ total: 23, tooShort: 1, nearDuplicate: 1, sampled: 21, heldOut: 2 });
    expect([...ids(train), ...ids(heldOut)]).toContain(original.id);
  });

  it('rejects impossible budgets', () => {
    expect(() => samplePassages(corpus, { maxPassages: -1 })).toThrow(RangeError);
    expect(() => samplePassages(corpus, { holdOut: 1.5 })).toThrow(RangeError);
  });
});
