import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveLocalModelFile } from '../../src/core/synth/llm/localModelFile';
import { Store } from '../../src/core/store/store';
import { TUNE_STAGES, type TuneReport } from '../../src/core/tune/runTune';
import { DEFAULT_TEACHER, describeTeacher } from '../../src/core/tune/teacherSpec';
import { runCli, runCliAsync } from '../helpers/cli';
import { startFakeLlmServer } from '../helpers/fakeLlmServer';
import { tempDir } from '../helpers/env';
import { defaultModel } from '../helpers/models';

/** Forty short notes on distinct subjects: enough passages for a held-out set and a few training batches. */
const SUBJECTS = [
  ['tides', 'The moon pulls the oceans, so coastal water rises and falls twice a day.'],
  ['volcanoes', 'Magma rises through the crust and erupts as lava, ash and gas.'],
  ['photosynthesis', 'Leaves turn sunlight, water and carbon dioxide into sugar and oxygen.'],
  ['vaccines', 'A vaccine trains the immune system to recognise a virus before an infection.'],
  ['compilers', 'A compiler translates source code into machine instructions ahead of time.'],
  ['garbage collection', 'The runtime frees memory that no reachable object refers to any more.'],
  ['TCP', 'TCP retransmits lost segments and delivers bytes in order over an unreliable network.'],
  ['DNS', 'The domain name system maps host names such as example.com to IP addresses.'],
  ['sourdough', 'Wild yeast and lactic bacteria leaven the dough and give the bread its sour taste.'],
  ['espresso', 'Hot water is forced through finely ground coffee at about nine bars of pressure.'],
  ['glaciers', 'Compacted snow flows downhill as ice and carves U-shaped valleys.'],
  ['earthquakes', 'Tectonic plates slip along a fault and release energy as seismic waves.'],
  ['bees', 'Honey bees dance to tell their hive where flowers with nectar are.'],
  ['chess openings', 'The Sicilian Defence answers 1.e4 with c5 to fight for the centre asymmetrically.'],
  ['interest rates', 'Central banks raise rates to cool inflation and lower them to support growth.'],
  ['black holes', 'Gravity is so strong that not even light escapes past the event horizon.'],
  ['git rebase', 'Rebasing replays your commits on top of another branch to keep history linear.'],
  ['unit tests', 'A unit test checks one function in isolation with known inputs and outputs.'],
  ['hash tables', 'Keys are hashed into buckets so lookups take constant time on average.'],
  ['binary search', 'Halving a sorted range at each step finds an item in logarithmic time.'],
  ['solar panels', 'Photovoltaic cells convert sunlight directly into electric current.'],
  ['wind turbines', 'Blades turn a generator when wind flows over their aerofoil shape.'],
  ['rainbows', 'Sunlight refracts and reflects inside raindrops, splitting into colours.'],
  ['coral reefs', 'Tiny polyps build limestone skeletons that shelter a quarter of marine species.'],
  ['marathon training', 'Long slow runs build endurance; taper the distance before race day.'],
  ['sleep', 'Adults need seven to nine hours; deep sleep restores the body and memory.'],
  ['fermentation', 'Microbes convert sugars into acids, gases or alcohol without oxygen.'],
  ['bridges', 'Suspension bridges hang the deck from cables draped over tall towers.'],
  ['printing press', 'Gutenberg used movable metal type to print books in the fifteenth century.'],
  ['penicillin', 'Fleming noticed mould killing bacteria, which led to the first antibiotic.'],
  ['regular expressions', 'A regex describes a pattern of characters, such as digits followed by a dot.'],
  ['SQL joins', 'An inner join returns rows that have matching keys in both tables.'],
  ['docker images', 'An image packs an application with its libraries into layered file systems.'],
  ['kubernetes pods', 'A pod is the smallest deployable unit and runs one or more containers.'],
  ['password hashing', 'Store passwords with a slow salted hash such as bcrypt or argon2.'],
  ['HTTP caching', 'Cache-Control headers tell browsers how long a response may be reused.'],
  ['migration of birds', 'Many birds fly south in autumn, navigating by the sun, stars and magnetism.'],
  ['olive oil', 'Cold-pressed olives give extra virgin oil with low acidity and strong flavour.'],
  ['the violin', 'Four strings tuned in fifths are played with a bow strung with horsehair.'],
  ['origami', 'A single square sheet is folded, without cuts or glue, into a figure.'],
] as const;

// Whole tuning runs with a real LLM and real training: an upper bound for slow or busy machines, not a timing claim.
const RUN_BOUND_MS = 600_000;

describe('specialize tune end to end (real default student, embedded LLM, real trainer)', () => {
  const workspace = tempDir('specialize-tune-ws-');
  const store = path.join(tempDir('specialize-tune-store-'), 'store');
  let student: string;
  let gguf: string;
  let common: string[];

  beforeAll(async () => {
    SUBJECTS.forEach(([subject, text], index) => fs.writeFileSync(path.join(workspace, `note-${String(index).padStart(2, '0')}.md`), `# ${subject}\n\n${text}\n`));
    student = (await defaultModel()).dir;
    gguf = (await resolveLocalModelFile()).path;
    // The student is its own teacher here, so the teacher check cannot pass (the first test checks
    // that it says so); --force trains anyway, which is what the second test is about.
    common = ['--store', store, '--student', student, '--teacher', student, '--llm', 'local', '--llm-model', gguf, '--types', 'question,keywords', '--max-passages', '40', '--hold-out', '10', '--epochs', '1', '--device', 'cpu'];
  }, RUN_BOUND_MS);

  it('records relevance judgements of search results from the command line, refusing ids the index lacks', () => {
    const indexed = runCli(['index', workspace, '--store', store, '--model', student]);
    expect(indexed.code, indexed.stderr).toBe(0);
    const search = (query: string) => {
      const found = runCli(['search', query, '--store', store, '--mode', 'dense', '--json']);
      expect(found.code, found.stderr).toBe(0);
      return (JSON.parse(found.stdout) as { results: { id: string; path: string }[] }).results;
    };
    const vaccine = search('how does a vaccine protect against a virus');
    const relevant = vaccine.find((result) => result.path === 'note-03.md');
    const other = vaccine.find((result) => result.path !== 'note-03.md');
    if (!relevant || !other) throw new Error('the vaccine note and another note should both be among the results');
    expect(runCli(['judge', 'how does a vaccine protect against a virus', relevant.id, '--store', store]).code).toBe(0);
    expect(runCli(['judge', 'how does a vaccine protect against a virus', other.id, '--store', store, '--not-relevant']).code).toBe(0);
    // A mark withdrawn with --clear leaves nothing behind.
    const third = vaccine.find((result) => result.id !== relevant.id && result.id !== other.id);
    if (!third) throw new Error('a third result should be among the results');
    expect(runCli(['judge', 'how does a vaccine protect against a virus', third.id, '--store', store]).code).toBe(0);
    const cleared = runCli(['judge', 'how does a vaccine protect against a virus', third.id, '--store', store, '--clear']);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(cleared.stdout).toMatch(/^cleared/);
    const dns = search('what maps host names to addresses').find((result) => result.path === 'note-07.md');
    if (!dns) throw new Error('the DNS note should be among the results');
    // Marked twice: the later mark wins.
    expect(runCli(['judge', 'what maps host names to addresses', dns.id, '--store', store, '--not-relevant']).code).toBe(0);
    expect(runCli(['judge', '  what maps host  names to addresses ', dns.id, '--store', store]).code).toBe(0);

    const unknown = runCli(['judge', 'anything', 'no-such-passage', '--store', store]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('has no passage no-such-passage');
    expect(unknown.stderr).toContain('specialize search');
    // A mark of a passage whose text has since changed (its id is gone), and a line cut short by a crash.
    fs.appendFileSync(path.join(store, 'judgements.jsonl'), `${JSON.stringify({ query: 'an edited note', passageId: 'gone-0', relevant: true, at: '2026-01-01T00:00:00Z' })}\n{"query": "torn`);

    const listed = runCli(['judge', '--list', '--store', store, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const list = JSON.parse(listed.stdout) as { marks: { query: string; passageId: string; relevant: boolean }[]; queriesWithRelevant: number; unreadableLines: number };
    expect(list.marks).toHaveLength(4);
    expect(list.marks.find((mark) => mark.passageId === dns.id)).toMatchObject({ query: 'what maps host names to addresses', relevant: true });
    expect(list.queriesWithRelevant).toBe(3);
    expect(list.unreadableLines).toBe(1);
  }, RUN_BOUND_MS);

  it('stops at the teacher check when the teacher is not better, and says so with the numbers', () => {
    const result = runCli(['tune', workspace, ...common, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as TuneReport;
    expect(report.stoppedAt).toBe('teacher-check');
    // The user's judgements are a second evaluation set: the stale one is left out, the torn line skipped.
    expect(report.userJudged).toEqual({ queries: 2, marks: 4, stale: 1, unreadableLines: 1 });
    expect(report.teacherCheck?.userJudged?.queries).toBe(2);
    // Both judged queries were found by the base (their relevant notes were in its results), so it scores above zero.
    expect(report.teacherCheck?.userJudged?.student['ndcg@10']).toBeGreaterThan(0);
    expect(report.teacherCheck?.userJudged?.teacher['ndcg@10']).toBeGreaterThan(0);
    expect(report.teacherCheck?.better).toBe(false);
    expect(report.teacherCheck?.queries).toBeGreaterThan(0);
    expect(report.outcome).toMatch(/not better than the student on \d+ held-out queries \(nDCG@10 [\d.]+ vs [\d.]+\)/);
    expect(report.tunedVersion).toBeUndefined();
  }, RUN_BOUND_MS);

  it('stops at a stage boundary when the disk fills during training, leaves the active model alone, and resumes', () => {
    // 32 MiB per file: enough for every stage before training, not for the student's checkpoint.
    const full = runCli(['tune', workspace, ...common, '--force', '--json'], {}, { fileSizeKb: 32 * 1024 });
    expect(full.code, full.stderr).toBe(2);
    expect(full.stderr).toMatch(/The disk is full: train\/run could not finish/);
    expect(full.stderr).toMatch(/Free space on the disk .* run the same command again/);
    const stages = path.join(store, 'tune', 'stages');
    expect(fs.existsSync(path.join(stages, 'training-data.json'))).toBe(true);
    expect(fs.existsSync(path.join(stages, 'train.json'))).toBe(false);
    // No half-written checkpoint is left to keep the disk full.
    const checkpoints = path.join(store, 'tune', 'checkpoints');
    const leftovers = fs.existsSync(checkpoints) ? fs.readdirSync(checkpoints).filter((name) => name.includes('.tmp-')) : [];
    expect(leftovers).toEqual([]);
    const listed = runCli(['models', 'list', '--store', store, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const versions = JSON.parse(listed.stdout) as { version: string; active: boolean }[];
    expect(versions).toHaveLength(1);
    expect(versions[0]?.active).toBe(true);
  }, RUN_BOUND_MS);

  it('with --force trains, exports, embeds a new version, evaluates it and promotes only a significant gain', () => {
    const result = runCli(['tune', workspace, ...common, '--force', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as TuneReport;
    expect(report.stoppedAt).toBeUndefined();
    // Stages finished in the earlier runs (the last one stopped by the full disk) are not redone.
    for (const stage of ['index', 'queries', 'held-out', 'user-judged', 'teacher', 'teacher-check', 'training-data']) expect(result.stderr).toContain(`stage ${stage}: done in an earlier run, skipped`);
    for (const stage of ['train', 'export', 'embed', 'evaluate', 'promote']) expect(result.stderr).toContain(`stage ${stage}\n`);
    expect(report.training?.train).toBeGreaterThanOrEqual(16);
    expect(report.training?.steps).toBeGreaterThan(0);
    const comparison = report.comparison;
    expect(comparison?.queries).toBe(report.teacherCheck?.queries);
    const gain = comparison?.ndcgDifference;
    expect(gain?.meanDifference).toBeCloseTo((comparison?.tuned['ndcg@10'] ?? 0) - (comparison?.base['ndcg@10'] ?? 0), 10);
    const judged = comparison?.userJudged;
    expect(judged?.queries).toBe(2);
    expect(judged?.ndcgDifference.meanDifference).toBeCloseTo((judged?.tuned['ndcg@10'] ?? 0) - (judged?.base['ndcg@10'] ?? 0), 10);
    // Promotion needs the held-out gain's interval above zero and no average loss on the user's judgements.
    expect(report.promoted).toBe((gain?.meanDifference ?? 0) > 0 && (gain?.low ?? 0) > 0 && (judged?.ndcgDifference.meanDifference ?? -1) >= 0);
    for (const stage of TUNE_STAGES) expect(fs.existsSync(path.join(report.runDir, 'stages', `${stage}.json`))).toBe(true);
    // Training wrote checkpoints to resume from; once it is recorded they are deleted, the student stays.
    expect(fs.existsSync(path.join(report.runDir, 'checkpoints'))).toBe(false);
    expect(fs.existsSync(path.join(report.runDir, 'student', 'model.safetensors'))).toBe(true);

    const listed = runCli(['models', 'list', '--store', store, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const versions = JSON.parse(listed.stdout) as { version: string; active: boolean; tunedFrom?: string; evaluation?: { queries: number } }[];
    expect(versions).toHaveLength(2);
    const tuned = versions.find((entry) => entry.version === report.tunedVersion);
    expect(tuned?.tunedFrom).toBe(report.baseVersion);
    expect(tuned?.evaluation?.queries).toBe(comparison?.queries);
    expect(versions.find((entry) => entry.active)?.version).toBe(report.promoted ? report.tunedVersion : report.baseVersion);

    // A finished run only reports again.
    const again = runCli(['tune', workspace, ...common, '--force', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('stage promote: done in an earlier run, skipped');
    expect((JSON.parse(again.stdout) as TuneReport).comparison).toEqual(comparison);
  }, RUN_BOUND_MS);

  it('refuses other settings on an existing run and a run folder from another version, which --fresh sets aside', () => {
    const changed = runCli(['tune', workspace, ...common.map((arg) => (arg === 'question,keywords' ? 'question' : arg)), '--force']);
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toMatch(/was started with other settings \(types: \["question","keywords"\] → \["question"\]\)/);
    const runFile = path.join(store, 'tune', 'run.json');
    const run = JSON.parse(fs.readFileSync(runFile, 'utf8')) as { format: number };
    fs.writeFileSync(runFile, JSON.stringify({ ...run, format: 0 }));
    const old = runCli(['tune', workspace, ...common, '--force']);
    expect(old.code).not.toBe(0);
    expect(old.stderr).toMatch(/written by another version of Specialize \(run format 0.*--fresh/s);
    // --fresh starts over and keeps the refused folder beside the new one, saying where.
    const fresh = runCli(['tune', workspace, ...common, '--fresh', '--json']);
    expect(fresh.code, fresh.stderr).toBe(0);
    const report = JSON.parse(fresh.stdout) as TuneReport;
    expect(path.dirname(report.earlierRun ?? '')).toBe(store);
    expect(path.basename(report.earlierRun ?? '')).toMatch(/^tune\.old-/);
    expect((JSON.parse(fs.readFileSync(path.join(report.earlierRun ?? '', 'run.json'), 'utf8')) as { format: number }).format).toBe(0);
    expect((JSON.parse(fs.readFileSync(runFile, 'utf8')) as { format: number }).format).toBe(run.format);
    expect(fresh.stderr).toContain('stage queries\n');
    expect(report.stoppedAt).toBe('teacher-check');
    // The version the set-aside run tuned keeps its model in the store, so it still searches once active.
    const versions = JSON.parse(runCli(['models', 'list', '--store', store, '--json']).stdout) as { version: string; modelId: string; tunedFrom: string | null }[];
    const tuned = versions.find((entry) => entry.tunedFrom !== null);
    expect(tuned?.version).toMatch(/^tuned-[0-9a-f]{10}$/);
    expect(tuned?.modelId).toBe(path.join(store, 'models', tuned?.version.slice('tuned-'.length) ?? '', 'tuned'));
    expect(runCli(['use', tuned?.version ?? '', '--store', store]).code).toBe(0);
    const search = runCli(['search', 'espresso coffee', '--store', store, '--json']);
    expect(search.code, search.stderr).toBe(0);
    expect((JSON.parse(search.stdout) as { results: { path: string }[] }).results[0]?.path).toBe('note-09.md');
    // store.json names that copy relative to the store, so a moved store keeps its tuned versions.
    const manifest = JSON.parse(fs.readFileSync(path.join(store, 'store.json'), 'utf8')) as { models: Record<string, { modelId: string }> };
    expect(manifest.models[tuned?.version ?? '']?.modelId).toBe(`./models/${tuned?.version.slice('tuned-'.length) ?? ''}/tuned`);
    const moved = `${store}-moved`;
    fs.renameSync(store, moved);
    try {
      const searchMoved = runCli(['search', 'espresso coffee', '--store', moved, '--json']);
      expect(searchMoved.code, searchMoved.stderr).toBe(0);
      expect((JSON.parse(searchMoved.stdout) as { results: { path: string }[] }).results[0]?.path).toBe('note-09.md');
    } finally {
      fs.renameSync(moved, store);
    }
  }, RUN_BOUND_MS);

  it('scores with the default teacher (two ONNX bi-encoders and BM25 from the index, averaged) candidates fused with BM25', async () => {
    const ensembleStore = path.join(tempDir('specialize-tune-store-'), 'store');
    const result = runCli(['tune', workspace, '--store', ensembleStore, '--student', student, '--llm', 'local', '--llm-model', gguf, '--types', 'question,keywords', '--max-passages', '12', '--hold-out', '4', '--candidates', 'student+bm25', '--device', 'cpu', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as TuneReport;
    expect(report.teacher).toBe(describeTeacher(DEFAULT_TEACHER));
    expect(fs.existsSync(path.join(report.runDir, 'stages', 'teacher.json'))).toBe(true);
    const read = <T>(file: string) => fs.readFileSync(path.join(report.runDir, file), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as T);
    const inputs = read<{ qid: string; query: string; candidates: string[]; lexical: number[] }>('teacher_input.jsonl');
    const queryOf = new Map(inputs.map((input) => [input.qid, input.query]));
    const scores = new Map(read<{ qid: string; candidates: string[]; members: number[][]; scores: number[] }>('teacher_scores.jsonl').map((line) => [line.qid, line]));
    expect(inputs.length).toBeGreaterThan(0);
    for (const input of inputs) {
      expect(input.lexical).toHaveLength(input.candidates.length);
      const line = scores.get(input.qid);
      expect(line?.candidates).toEqual(input.candidates);
      // One column per member: the two models' cosines, then the index's BM25 scores as written.
      for (const [index, members] of (line?.members ?? []).entries()) {
        expect(members).toHaveLength(3);
        expect(members[2]).toBe(input.lexical[index]);
        for (const cosine of members.slice(0, 2)) expect(Math.abs(cosine as number)).toBeLessThanOrEqual(1.0001);
      }
      for (const score of line?.scores ?? []) expect(score >= 0 && score <= 1).toBe(true);
    }
    // Queries written from a passage share words with it: BM25 is not all zeros.
    expect(inputs.some((input) => input.lexical.some((value) => value > 0))).toBe(true);
    // Training candidates: the student's top 20 and BM25's, fused, never a held-out passage.
    const heldOut = new Set(read<{ passage_id: string; split: string }>(path.join('synth', 'queries.jsonl')).filter((row) => row.split === 'heldout').map((row) => row.passage_id));
    expect(heldOut.size).toBeGreaterThan(0);
    const training = inputs.filter((input) => input.qid.startsWith('t'));
    for (const input of training) {
      expect(new Set(input.candidates).size).toBe(input.candidates.length);
      // The student's top 20 less any held-out passage among them, then BM25's additions.
      expect(input.candidates.length).toBeGreaterThanOrEqual(20 - heldOut.size);
      expect(input.candidates.length).toBeLessThanOrEqual(40);
      expect(input.candidates.filter((id) => heldOut.has(id))).toEqual([]);
    }
    // The fusion is a union: every passage of BM25's top 20 (held-out ones removed) is a candidate.
    const opened = await Store.open(ensembleStore);
    try {
      for (const input of training) {
        const lexical = (await opened.searchBm25(queryOf.get(input.qid) ?? '', 20 + heldOut.size)).map((hit) => hit.id).filter((id) => !heldOut.has(id)).slice(0, 20);
        expect(lexical.filter((id) => !input.candidates.includes(id))).toEqual([]);
      }
    } finally {
      opened.close();
    }
  }, RUN_BOUND_MS);

  it('stops at the queries stage when the LLM writes nothing usable, and leaves the active model alone', async () => {
    // A real local endpoint whose every answer is empty: a fault the embedded model cannot produce on demand.
    const server = await startFakeLlmServer({ fallback: { content: '' } });
    const emptyStore = path.join(tempDir('specialize-tune-store-'), 'store');
    try {
      const result = await runCliAsync(['tune', workspace, '--store', emptyStore, '--student', student, '--llm', server.url, '--llm-model', 'fake', '--types', 'question', '--max-passages', '12', '--hold-out', '4', '--device', 'cpu']);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/The LLM wrote no usable held-out queries \(0 parsed, 0 kept; dropped: empty \d+\)/);
      expect(result.stderr).toMatch(/use a stronger one with --llm/);
      expect(server.requests.length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
    // The queries stage finished (its record says what the LLM wrote); nothing after it ran.
    expect(fs.existsSync(path.join(emptyStore, 'tune', 'stages', 'queries.json'))).toBe(true);
    expect(fs.existsSync(path.join(emptyStore, 'tune', 'stages', 'held-out.json'))).toBe(false);
    const listed = runCli(['models', 'list', '--store', emptyStore, '--json']);
    const versions = JSON.parse(listed.stdout) as { active: boolean }[];
    expect(versions.map((entry) => entry.active)).toEqual([true]);
  }, RUN_BOUND_MS);

  it('stops at the teacher stage when the teacher does not load, with the fix, and leaves the active model alone', () => {
    const broken = tempDir('specialize-broken-teacher-');
    fs.writeFileSync(path.join(broken, 'config.json'), '{"model_type": "bert", "hidden_size": ');
    const brokenStore = path.join(tempDir('specialize-tune-store-'), 'store');
    const result = runCli(['tune', workspace, '--store', brokenStore, '--student', student, '--teacher', broken, '--llm', 'local', '--llm-model', gguf, '--types', 'question', '--max-passages', '12', '--hold-out', '4', '--device', 'cpu']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`Could not load the bi-encoder teacher '${broken}'`);
    expect(result.stderr).toMatch(/Check that the model is a sentence-transformers or Hugging Face model folder/);
    const stages = path.join(brokenStore, 'tune', 'stages');
    expect(fs.existsSync(path.join(stages, 'held-out.json'))).toBe(true);
    expect(fs.existsSync(path.join(stages, 'teacher.json'))).toBe(false);
    const listed = runCli(['models', 'list', '--store', brokenStore, '--json']);
    expect((JSON.parse(listed.stdout) as { active: boolean }[]).map((entry) => entry.active)).toEqual([true]);
  }, RUN_BOUND_MS);

  it('says when nothing is indexable and leaves the store alone', () => {
    const empty = tempDir('specialize-tune-empty-');
    fs.writeFileSync(path.join(empty, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]));
    const emptyStore = path.join(tempDir('specialize-tune-store-'), 'store');
    const result = runCli(['tune', empty, '--store', emptyStore, '--student', student, '--llm', 'local', '--llm-model', gguf]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Nothing indexable was found in .* \(0 passages\)/);
  }, RUN_BOUND_MS);
});
