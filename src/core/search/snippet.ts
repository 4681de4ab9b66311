/**
 * A short excerpt of a passage around the line that shares most words with the query, so a result
 * shows why it matched. Returns the excerpt and its line offset within the passage.
 */
export function makeSnippet(text: string, query: string, maxChars = 300, context = 1): { text: string; lineOffset: number } {
  const lines = text.split('\n');
  const terms = new Set(words(query));
  let best = 0;
  let bestScore = -1;
  lines.forEach((line, index) => {
    const score = words(line).filter((word) => terms.has(word)).length;
    if (score > bestScore) {
      best = index;
      bestScore = score;
    }
  });
  let start = Math.max(0, best - (bestScore > 0 ? context : 0));
  // The excerpt (and the line a click jumps to) starts at text, not at a blank line.
  while (start < best && (lines[start] as string).trim() === '') start += 1;
  const excerpt = dedent(lines.slice(start, start + 2 * context + 1)).join('\n').trim();
  return { text: excerpt.length > maxChars ? `${excerpt.slice(0, maxChars - 1)}…` : excerpt, lineOffset: start };
}

/** Removes the indentation the lines share, so code excerpts keep their relative layout. */
function dedent(lines: readonly string[]): string[] {
  const indents = lines.filter((line) => line.trim() !== '').map((line) => (line.match(/^[ \t]*/) as RegExpMatchArray)[0].length);
  const common = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((line) => line.slice(common));
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}_]{3,}/gu) ?? [];
}
