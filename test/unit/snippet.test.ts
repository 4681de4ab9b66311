import { describe, expect, it } from 'vitest';
import { makeSnippet } from '../../src/core/search/snippet';

describe('snippets', () => {
  const code = ['def run(self):', '    while True:', '        job = self.claim()', '        if job is None:', '            time.sleep(self.poll_interval)', '        self.execute(job)'].join('\n');

  it('centres on the line sharing most words with the query and reports its offset', () => {
    const snippet = makeSnippet(code, 'sleep poll interval');
    expect(snippet.lineOffset).toBe(3);
    expect(snippet.text.split('\n')[1]).toContain('time.sleep(self.poll_interval)');
  });

  it('removes only the indentation the excerpt lines share', () => {
    expect(makeSnippet(code, 'sleep poll interval').text).toBe(['if job is None:', '    time.sleep(self.poll_interval)', 'self.execute(job)'].join('\n'));
  });

  it('starts at the top when nothing matches and shortens long excerpts', () => {
    expect(makeSnippet(code, 'unrelated words').lineOffset).toBe(0);
    const long = makeSnippet('x'.repeat(1000), 'x', 100);
    expect(long.text).toHaveLength(100);
    expect(long.text.endsWith('…')).toBe(true);
  });
});

describe('snippet offsets', () => {
  it('never start on a blank line before the match', () => {
    const snippet = makeSnippet('# Title\n\nThe worker waits 30 seconds after SIGTERM.\nThen it exits.', 'SIGTERM wait');
    expect(snippet.lineOffset).toBe(2);
    expect(snippet.text.startsWith('The worker')).toBe(true);
  });
});
