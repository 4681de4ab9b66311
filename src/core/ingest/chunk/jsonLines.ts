/**
 * A small JSON parser that remembers the line each value starts on: notebooks are JSON, and a
 * passage from a notebook cell should point at the lines of the .ipynb file that hold the cell's
 * source. (JSON.parse drops positions; JSONC parsers that keep them do not bundle cleanly.)
 */
export type JsonNode =
  | { kind: 'object'; line: number; members: Map<string, JsonNode> }
  | { kind: 'array'; line: number; items: JsonNode[] }
  | { kind: 'string'; line: number; value: string }
  | { kind: 'scalar'; line: number; value: number | boolean | null };

/** Parses strict JSON; throws a SyntaxError on anything else. Lines are 1-based. */
export function parseJsonWithLines(text: string): JsonNode {
  const parser = new JsonLineParser(text);
  const node = parser.value();
  parser.end();
  return node;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING_STOP = /["\\\n]/g;

class JsonLineParser {
  private position = 0;
  private line = 1;

  constructor(private readonly text: string) {}

  value(): JsonNode {
    this.skipWhitespace();
    const line = this.line;
    const char = this.text[this.position];
    if (char === '{') return this.object(line);
    if (char === '[') return this.array(line);
    if (char === '"') return { kind: 'string', line, value: this.string() };
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.position)) {
        this.position += word.length;
        return { kind: 'scalar', line, value };
      }
    }
    NUMBER.lastIndex = this.position;
    const number = NUMBER.exec(this.text);
    if (!number) this.fail('a value');
    this.position += number[0].length;
    return { kind: 'scalar', line, value: Number(number[0]) };
  }

  end(): void {
    this.skipWhitespace();
    if (this.position < this.text.length) this.fail('the end of the text');
  }

  private object(line: number): JsonNode {
    const members = new Map<string, JsonNode>();
    this.position += 1;
    this.skipWhitespace();
    if (this.text[this.position] === '}') {
      this.position += 1;
      return { kind: 'object', line, members };
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.position] !== '"') this.fail('a member name');
      const key = this.string();
      this.skipWhitespace();
      this.expect(':');
      members.set(key, this.value());
      this.skipWhitespace();
      if (this.text[this.position] === ',') {
        this.position += 1;
        continue;
      }
      this.expect('}');
      return { kind: 'object', line, members };
    }
  }

  private array(line: number): JsonNode {
    const items: JsonNode[] = [];
    this.position += 1;
    this.skipWhitespace();
    if (this.text[this.position] === ']') {
      this.position += 1;
      return { kind: 'array', line, items };
    }
    for (;;) {
      items.push(this.value());
      this.skipWhitespace();
      if (this.text[this.position] === ',') {
        this.position += 1;
        continue;
      }
      this.expect(']');
      return { kind: 'array', line, items };
    }
  }

  /** Finds the end of the string token and lets JSON.parse decode its escapes. */
  private string(): string {
    const start = this.position;
    STRING_STOP.lastIndex = start + 1;
    for (;;) {
      const stop = STRING_STOP.exec(this.text);
      if (!stop || stop[0] === '\n') this.fail('the end of a string');
      if (stop[0] === '\\') {
        STRING_STOP.lastIndex = stop.index + 2;
        continue;
      }
      this.position = stop.index + 1;
      return JSON.parse(this.text.slice(start, this.position)) as string;
    }
  }

  private skipWhitespace(): void {
    for (;;) {
      const char = this.text.charCodeAt(this.position);
      if (char === 10) this.line += 1;
      else if (char !== 32 && char !== 9 && char !== 13) return;
      this.position += 1;
    }
  }

  private expect(char: string): void {
    if (this.text[this.position] !== char) this.fail(`"${char}"`);
    this.position += 1;
  }

  private fail(expected: string): never {
    throw new SyntaxError(`Expected ${expected} at line ${this.line} of the JSON text.`);
  }
}
