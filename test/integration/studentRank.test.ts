import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Embedder } from '../../src/core/embed/embedder';
import { DEFAULT_MODEL_ID } from '../../src/core/models/packaged';
import { Searcher } from '../../src/core/search/searcher';
import { Store, type PassageInput } from '../../src/core/store/store';
import { roundTripFilter } from '../../src/core/synth/filters';
import { rankInMemory, rankWithSearcher } from '../../src/core/synth/studentRank';
import { tempDir } from '../helpers/env';
import { defaultModel } from '../helpers/models';

const passage = (id: string, text: string): PassageInput => ({ id, root: '/ws', path: `docs/${id}.md`, title: '', text });

const corpus = [
  passage('retry', 'Failed jobs are retried with exponential backoff, up to five attempts.'),
  passage('deadletter', 'Jobs that fail every retry are moved to the dead letter queue for inspection.'),
  passage('cron', 'Cron schedules run in UTC unless a time zone is named in the schedule.'),
  passage('shutdown', 'On SIGTERM the worker stops taking jobs, finishes the running ones and exits.'),
  passage('metrics', 'Queue depth and job latency are exported as Prometheus metrics on port 9090.'),
  passage('auth', 'API keys are rotated by issuing a new key, deploying it, then revoking the old one.'),
];

describe('rankWithSearcher (the real default model)', () => {
  it('ranks each passage first for its own text, in one batch, and feeds the round-trip filter', async () => {
    const embedder = await Embedder.create({ model: await defaultModel() });
    const store = await Store.open(path.join(tempDir(), 'index'), { create: true });
    try {
      await store.syncPassages(corpus);
      await store.syncVectors(embedder, DEFAULT_MODEL_ID);
      const rank = rankWithSearcher(new Searcher(store, embedder), embedder);

      const texts = corpus.map((p) => p.text);
      const embeddedBefore = embedder.stats.texts;
      const ranked = await rank(texts, 3);
      expect(embedder.stats.texts - embeddedBefore).toBe(corpus.length);
      expect(ranked.map((ids) => ids[0])).toEqual(corpus.map((p) => p.id));
      expect(ranked.every((ids) => ids.length === 3)).toBe(true);
      // A query the searcher would refuse gets an empty list instead of failing its batch.
      expect(await rank(['   ', 'dead letter queue'], 2)).toEqual([[], expect.arrayContaining(['deadletter'])]);

      const result = await roundTripFilter(
        [
          { passage_id: 'cron', type: 'question', query: 'Which time zone do scheduled jobs use?' },
          { passage_id: 'metrics', type: 'question', query: 'Which time zone do scheduled jobs use?' },
        ],
        { rank, k: 1 },
      );
      expect(result.kept.map((x) => x.passage_id)).toEqual(['cron']);
      expect(result.dropped.map((x) => x.reason)).toEqual(['not-in-student-top-k']);
    } finally {
      store.close();
      await embedder.close();
    }
  });

  it('ranks in memory (one matrix product per block) exactly as the exact scans of the searcher do', async () => {
    const embedder = await Embedder.create({ model: await defaultModel() });
    const store = await Store.open(path.join(tempDir(), 'index'), { create: true });
    // Enough passages for several blocks and near-ties: each sentence pairs two topics.
    const topics = corpus.map((p) => p.text);
    const many = Array.from({ length: 60 }, (_, i) => passage(`p${i}`, `${topics[i % topics.length]} ${topics[(i * 7 + 3) % topics.length]} Case ${i}.`));
    try {
      await store.syncPassages(many);
      await store.syncVectors(embedder, DEFAULT_MODEL_ID);
      const searcher = new Searcher(store, embedder);
      const queries = ['retry with backoff', 'prometheus port', 'rotate api keys safely', 'time zone of cron', '', 'what happens on SIGTERM'];
      const scans = await rankWithSearcher(searcher, embedder)(queries, 10);
      const inMemory = rankInMemory(store, searcher, embedder);
      try {
        expect(await inMemory(queries, 10)).toEqual(scans);
      } finally {
        await inMemory.close();
      }
    } finally {
      store.close();
      await embedder.close();
    }
  });
});
