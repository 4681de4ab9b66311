import type { TextTokenizer } from '../embed/tokenize';
import type { Chunk } from './types';

/**
 * Token counting fast enough for chunking thousands of files a second. The tokenizers of BERT-style
 * models (WordPiece after whitespace and punctuation splitting) tokenize each whitespace-separated
 * word on its own, so a text's count is the sum of its words' counts, and words repeat a lot
 * (identifiers, keywords): counting each distinct word once makes chunking ~10x faster than
 * tokenizing every candidate passage. Whether that sum is exact for a tokenizer is checked on
 * probe texts; where it is not (byte-level BPE, SentencePiece), finished passages near the limit
 * are recounted exactly and split when they do not fit, so no passage is silently truncated.
 */
export class TokenBudget {
  private readonly wordCounts = new Map<string, number>();
  /** Whether summing per-word counts reproduces the tokenizer on the probe texts. */
  readonly exactPerWord: boolean;

  constructor(
    private readonly tokenizer: TextTokenizer,
    /** Tokens one passage may hold (the model's limit minus its special tokens). */
    readonly capacity: number = tokenizer.textCapacity,
  ) {
    this.exactPerWord = PROBES.every((probe) => this.count(probe) === tokenizer.countTokens(probe));
  }

  /** Tokens in `text` (exact for per-word tokenizers, close for the rest). */
  count = (text: string): number => {
    let total = 0;
    for (const word of text.split(/\s+/)) {
      if (word === '') continue;
      let count = this.wordCounts.get(word);
      if (count === undefined) {
        count = this.tokenizer.countTokens(word);
        if (this.wordCounts.size < WORD_CACHE_LIMIT) this.wordCounts.set(word, count);
      }
      total += count;
    }
    return total;
  };

  /** The chunkers' limit: a margin below capacity where per-word counts are only close. */
  get chunkLimit(): number {
    return this.exactPerWord ? this.capacity : Math.floor(this.capacity * 0.9);
  }

  /** Recounts passages exactly where counts were approximate, halving any that do not fit. */
  enforce(chunks: readonly Chunk[]): Chunk[] {
    if (this.exactPerWord) return [...chunks];
    return chunks.flatMap((chunk) => this.fit(chunk));
  }

  private fit(chunk: Chunk): Chunk[] {
    if (this.tokenizer.countTokens(chunk.text) <= this.capacity) return [chunk];
    const lines = chunk.text.split('\n');
    if (lines.length < 2) {
      const half = Math.ceil(chunk.text.length / 2);
      return [...this.fit({ ...chunk, text: chunk.text.slice(0, half) }), ...this.fit({ ...chunk, text: chunk.text.slice(half) })];
    }
    const middle = Math.ceil(lines.length / 2);
    const span = chunk.endLine - chunk.startLine;
    // Text lines map to file lines one to one for all but notebook and class-summary passages;
    // for those the split point is proportional, which keeps both halves inside the original range.
    const splitLine = chunk.startLine + (span + 1 === lines.length ? middle : Math.round((span * middle) / lines.length));
    return [
      ...this.fit({ ...chunk, text: lines.slice(0, middle).join('\n'), endLine: Math.max(chunk.startLine, splitLine - 1) }),
      ...this.fit({ ...chunk, text: lines.slice(middle).join('\n'), startLine: Math.min(chunk.endLine, splitLine) }),
    ];
  }
}

/** Bounds memory on huge vocabularies; the cache is only a speed-up. */
const WORD_CACHE_LIMIT = 500_000;

const PROBES = [
  'The boundary layer separates at high angles of attack; lift drops sharply.',
  'def resolve_model(spec: str) -> "Model":\n    return cache.get(spec) or download(spec)  # TODO(v2)',
  "TypeError: Cannot read properties of undefined (reading 'map') at Queue.claim (queue.ts:42:17)",
  'Café naïve résumé — Übergrößenträger, 東京の天気, emoji 🚀, tabs\tand  double  spaces',
  'SELECT id, hash FROM passages WHERE hash <> ? ORDER BY updated_at DESC LIMIT 20;',
];
