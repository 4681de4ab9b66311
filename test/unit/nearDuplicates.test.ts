import { describe, expect, it } from 'vitest';
import { MIN_NORMALIZED_CHARS, normalizeForDedup, removeNearDuplicates } from '../../src/core/synth/nearDuplicates';
import { seededShuffle } from '../../src/core/synth/sampling';

const p = (id: string, text: string) => ({ id, text });
const keptIds = (passages: { id: string; text: string }[]) => removeNearDuplicates(passages).kept.map((k) => k.id);

/** Distinct letter-only words (digits would be normalised away), none a substring of another. */
function word(i: number): string {
  let letters = '';
  for (let n = i, place = 0; place < 4; place += 1, n = Math.floor(n / 26)) letters = String.fromCharCode(97 + (n % 26)) + letters;
  return `q${letters}z`;
}

describe('normalizeForDedup', () => {
  it('strips accents, case, digits, punctuation and symbols, in any script', () => {
    expect(normalizeForDedup('Café Naïve RÉSUMÉ')).toBe('cafe naive resume');
    expect(normalizeForDedup('Version 2.3.1: fixed!!')).toBe('version fixed');
    expect(normalizeForDedup('«Bonjour» — dit-il…')).toBe('bonjour ditil');
    expect(normalizeForDedup('price: 40 € → £35 © ✓')).toBe('price');
    // Arabic-Indic and Devanagari digits are digits too (\p{N}), not only 0-9.
    expect(normalizeForDedup('page ٣٤ and ४२ end')).toBe('page and end');
  });

  it('applies NFKC first: ligatures, full-width and superscript forms become plain characters', () => {
    expect(normalizeForDedup('ﬁnd the ﬂag')).toBe('find the flag');
    expect(normalizeForDedup('ＡＢＣ　ｄｅｆ１２３')).toBe('abc def');
    expect(normalizeForDedup('x² + y₃')).toBe('x y');
    // ™ is a compatibility form of the letters TM: NFKC turns it into letters before symbols are dropped.
    expect(normalizeForDedup('Acme™ Cloud')).toBe('acmetm cloud');
  });

  it('collapses every kind of whitespace and trims', () => {
    expect(normalizeForDedup('  a\t\tb\n\nc\u00a0d  ')).toBe('a b c d');
    // Punctuation between words is dropped, not replaced by a space.
    expect(normalizeForDedup('foo.bar(baz)')).toBe('foobarbaz');
  });
});

describe('removeNearDuplicates', () => {
  it('drops passages whose normalised text is under 10 characters', () => {
    const result = removeNearDuplicates([p('short', '#1: v2.0 — ok!'), p('nine', 'abcdefghi'), p('ten', 'abcdefghij'), p('astral', '𝒶𝒷𝒸𝒹𝒺𝒻𝒼𝒽𝒾𝒿')]);
    expect(MIN_NORMALIZED_CHARS).toBe(10);
    // NFKC turns the ten mathematical script letters into ten plain ones.
    expect(result.kept.map((k) => k.id)).toEqual(['ten', 'astral']);
    expect(result.counts).toEqual({ 'too-short': 2, 'near-duplicate': 0 });
    expect(result.dropped.map((d) => [d.passage.id, d.reason])).toEqual([
      ['short', 'too-short'],
      ['nine', 'too-short'],
    ]);
  });

  it('keeps the smallest id of texts equal after normalisation, whatever the input order', () => {
    const copies = [p('c', 'Retries use exponential backoff.'), p('a', 'retries use EXPONENTIAL back-off!'), p('b', 'Retries   use exponential backoff (2)')];
    for (const order of [copies, [...copies].reverse(), [copies[1], copies[2], copies[0]]] as (typeof copies)[]) {
      const result = removeNearDuplicates(order);
      expect(result.kept.map((k) => k.id)).toEqual(['a']);
      expect(result.dropped.map((d) => d.duplicateOf)).toEqual(['a', 'a']);
    }
  });

  it('keeps the longer passage when one is a prefix of the other', () => {
    expect(keptIds([p('long', 'the scheduler retries failed jobs with backoff and jitter'), p('prefix', 'The scheduler retries failed jobs')])).toEqual(['long']);
  });

  it('catches a shared suffix that only the reversed order brings together', () => {
    const full = p('full', 'zebra crossing: the scheduler retries failed jobs with backoff');
    const suffix = p('suffix', 'the scheduler retries failed jobs with backoff');
    // Ten fillers sort between "the…" and "zebra…" forward, so the pair is more than 9 apart there;
    // reversed, both end in "backoff" and sort next to each other.
    const fillers = Array.from({ length: 10 }, (_, i) => p(`f${i}`, `u${word(i)} filler passage ${word(i + 100)}`));
    const forward = [full, suffix, ...fillers].map((x) => normalizeForDedup(x.text)).sort();
    expect(forward.indexOf(normalizeForDedup(full.text)) - forward.indexOf(normalizeForDedup(suffix.text))).toBeGreaterThan(9);

    const result = removeNearDuplicates([full, suffix, ...fillers]);
    expect(result.kept.map((k) => k.id)).not.toContain('suffix');
    expect(result.kept.map((k) => k.id)).toContain('full');
    expect(result.dropped.find((d) => d.passage.id === 'suffix')).toMatchObject({ reason: 'near-duplicate', duplicateOf: 'full' });
    expect(result.counts['near-duplicate']).toBe(1);
  });

  it('misses a text contained in the middle of another when both orders keep them far apart (the method is a neighbour check, not all pairs)', () => {
    const outer = p('outer', 'alpha start of the text: the middle part here and then omega end');
    const inner = p('inner', 'the middle part here');
    // Forward, the fillers ("m…") sort between "alpha…" and "the…"; reversed, they ("edam…") sort
    // between "dne…" and "ereh…".
    const fillers = Array.from({ length: 12 }, (_, i) => p(`f${i}`, `m${word(i)} filler ${word(i + 50)} made`));
    expect(keptIds([outer, inner, ...fillers])).toContain('inner');
    // With nothing in between, the same pair is caught.
    expect(keptIds([outer, inner])).toEqual(['outer']);
  });

  it('drops every link of a containment chain but the longest', () => {
    expect(keptIds([p('a', 'jobs are retried'), p('b', 'failed jobs are retried'), p('c', 'failed jobs are retried with backoff'), p('d', 'an unrelated passage entirely')])).toEqual(['c', 'd']);
  });

  it('gives the same survivors for any input order, and keeps them in input order', () => {
    const base = Array.from({ length: 300 }, (_, i) => p(`p${i}`, `passage ${word(i)} about ${word(i % 7)} and ${word(1000 + i)}`));
    const duplicates = [
      ...Array.from({ length: 40 }, (_, i) => p(`prefix${i}`, base[i * 3]?.text.slice(0, 30) as string)),
      ...Array.from({ length: 40 }, (_, i) => p(`suffix${i}`, base[i * 5]?.text.slice(12) as string)),
      ...Array.from({ length: 40 }, (_, i) => p(`copy${i}`, (base[i * 7]?.text as string).toUpperCase())),
    ];
    const all = [...base, ...duplicates];
    const reference = removeNearDuplicates(all);
    expect(reference.counts['near-duplicate']).toBe(120);
    for (const seed of [1, 2, 3]) {
      const shuffled = seededShuffle(all, seed);
      const result = removeNearDuplicates(shuffled);
      expect(result.kept.map((k) => k.id).sort()).toEqual(reference.kept.map((k) => k.id).sort());
      expect(result.counts).toEqual(reference.counts);
      // Survivors keep their relative input order.
      const positions = result.kept.map((k) => shuffled.indexOf(k));
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
    }
  });

  it('does not hide a longer text behind a block of identical copies', () => {
    // Forward, twenty copies would fill the 9-neighbour window between copy00 and the longer text;
    // reversed, the fillers ("krap…") sort between them ("esnecil…" and "sliated…").
    const copies = Array.from({ length: 20 }, (_, i) => p(`copy${String(i).padStart(2, '0')}`, 'Licensed under the MIT license.'));
    const fillers = Array.from({ length: 10 }, (_, i) => p(`f${i}`, `${word(i)} car park`));
    const result = removeNearDuplicates([...copies, p('longer', 'Licensed under the MIT license. See LICENSE for details.'), ...fillers]);
    expect(result.kept.map((k) => k.id)).toEqual(['longer', ...fillers.map((f) => f.id)]);
    expect(result.counts['near-duplicate']).toBe(20);
  });
});
