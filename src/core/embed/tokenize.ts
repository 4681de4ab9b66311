import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { SpecializeError } from '../errors';

/** Token ids of one text, already truncated to the model's limit and wrapped in special tokens. */
export interface EncodedText {
  ids: number[];
}

/**
 * Tokenizes like a Hugging Face fast tokenizer with `truncation=True, max_length=N`: the text's own
 * tokens are cut to fit, then the special tokens of the tokenizer's template are added around them.
 */
export class TextTokenizer {
  private readonly prefix: number[];
  private readonly suffix: number[];
  readonly padId: number;

  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly maxLength: number,
  ) {
    // Find where a text's tokens sit inside the template by encoding a one-token probe.
    const probe = tokenizer.encode('a', { add_special_tokens: false }).ids;
    const wrapped = tokenizer.encode('a', { add_special_tokens: true }).ids;
    const at = indexOfSequence(wrapped, probe);
    if (at < 0) throw new Error('The tokenizer template does not contain the text tokens.');
    this.prefix = wrapped.slice(0, at);
    this.suffix = wrapped.slice(at + probe.length);
    if (this.prefix.length + this.suffix.length >= maxLength) throw new Error(`max length ${maxLength} leaves no room for text`);
    this.padId = findPadId(tokenizer);
  }

  static fromModelDir(modelDir: string, maxLength: number): TextTokenizer {
    const tokenizerFile = path.join(modelDir, 'tokenizer.json');
    if (!fs.existsSync(tokenizerFile)) {
      throw new SpecializeError(`Model folder ${modelDir} has no tokenizer.json.`, 'Save the model with a fast tokenizer (tokenizer.save_pretrained) so tokenizer.json is written.', 'model-invalid');
    }
    try {
      const json = JSON.parse(fs.readFileSync(tokenizerFile, 'utf8')) as object;
      const configFile = path.join(modelDir, 'tokenizer_config.json');
      const config = fs.existsSync(configFile) ? (JSON.parse(fs.readFileSync(configFile, 'utf8')) as object) : {};
      return new TextTokenizer(new Tokenizer(json, config), maxLength);
    } catch (error) {
      throw new SpecializeError(`The tokenizer in ${modelDir} cannot be loaded: ${(error as Error).message}.`, 'Replace tokenizer.json with a valid one saved by the Hugging Face tokenizers library.', 'model-invalid');
    }
  }

  /** Number of tokens a prompt occupies at the start of an input, as sentence-transformers counts it. */
  promptLength(prompt: string): number {
    if (prompt === '') return 0;
    return this.prefix.length + this.tokenizer.encode(prompt, { add_special_tokens: false }).ids.length;
  }

  /** Tokens the model would read for `text`, without truncation and without special tokens. */
  countTokens(text: string): number {
    return this.encodeBody(text).length;
  }

  /** Room for text in one input: the model's limit minus the special tokens around it. */
  get textCapacity(): number {
    return this.maxLength - this.prefix.length - this.suffix.length;
  }

  encode(text: string): EncodedText {
    const room = this.textCapacity;
    let body = this.encodeBody(cutAtWhitespace(text, room * CHARS_PER_TOKEN_BOUND));
    // The cut text must still fill the budget; if it does not, the cut may have changed the result.
    if (body.length < room + 1 && text.length > room * CHARS_PER_TOKEN_BOUND) body = this.encodeBody(text);
    return { ids: [...this.prefix, ...body.slice(0, room), ...this.suffix] };
  }

  private encodeBody(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }
}

/**
 * Long files are cut before tokenizing so a 1 MB text costs as much as a 512-token one. Sixteen
 * characters per token is about four times the usual ratio; `encode` re-checks and falls back.
 */
const CHARS_PER_TOKEN_BOUND = 16;

function cutAtWhitespace(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const space = text.lastIndexOf(' ', limit);
  return text.slice(0, space > limit / 2 ? space : limit);
}

function indexOfSequence(haystack: readonly number[], needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i += 1) {
    for (let j = 0; j < needle.length; j += 1) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function findPadId(tokenizer: Tokenizer): number {
  for (const token of ['[PAD]', '<pad>', '<|endoftext|>', '</s>']) {
    const id = tokenizer.token_to_id(token);
    if (id !== undefined) return id;
  }
  return 0;
}
