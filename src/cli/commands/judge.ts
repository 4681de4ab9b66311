import type { Command } from 'commander';
import { SpecializeError } from '../../core/errors';
import { groupByQuery, readJudgements, recordJudgement, type LoggedMark } from '../../core/judgements/judgementLog';
import { Store } from '../../core/store/store';
import { printJson, runCommand } from '../run';

interface JudgeFlags {
  store: string;
  notRelevant?: boolean;
  clear?: boolean;
  list?: boolean;
  json?: boolean;
}

/**
 * `specialize judge`: the search view's relevance marks from the command line (and for agents). Tuning
 * evaluates base and tuned models on the judged queries next to its held-out synthetic ones.
 */
export function registerJudge(program: Command): void {
  program
    .command('judge')
    .description('Mark search results relevant (or not) to a query; tuning evaluates on these judgements')
    .argument('[query]', 'the query the results were found for')
    .argument('[passage-ids...]', 'ids of the passages to mark (`specialize search` shows them)')
    .requiredOption('--store <dir>', 'index folder made by `specialize index`')
    .option('--not-relevant', 'mark the passages as not relevant (default: relevant)')
    .option('--clear', 'withdraw earlier marks of the passages for this query')
    .option('--list', 'list the recorded judgements instead')
    .option('--json', 'print JSON')
    .action(async (query: string | undefined, ids: string[], flags: JudgeFlags) => {
      await runCommand({ quiet: true }, async () => {
        if (flags.list) return list(flags);
        if (!query?.trim() || ids.length === 0) {
          throw new SpecializeError('judge needs a query and at least one passage id.', 'Run `specialize judge "<query>" <passage-id>… --store <dir>`, or `--list` to see the judgements.', 'invalid-input');
        }
        if (flags.clear && flags.notRelevant) throw new SpecializeError('--clear and --not-relevant contradict each other.', 'Pass one of them: --clear withdraws a mark, --not-relevant records one.', 'invalid-input');
        const store = await Store.open(flags.store);
        let found;
        try {
          found = await store.fetchPassages(ids);
        } finally {
          store.close();
        }
        const unknown = ids.filter((id) => !found.has(id));
        if (unknown.length > 0) {
          throw new SpecializeError(`The index at ${flags.store} has no passage ${unknown.join(', ')}.`, 'Use the id of a result of `specialize search "<query>" --store <dir>`; ids change when a passage\'s text changes.', 'not-found');
        }
        const relevant = flags.clear ? null : flags.notRelevant !== true;
        const marks = [];
        for (const id of ids) marks.push(await recordJudgement(flags.store, { query, passageId: id, relevant, path: found.get(id)?.path ?? '' }));
        if (flags.json) printJson({ recorded: marks });
        else for (const mark of marks) process.stdout.write(formatMark(mark));
      });
    });
}

function list(flags: JudgeFlags): void {
  const { marks, unreadableLines } = readJudgements(flags.store);
  const usable = groupByQuery(marks).length;
  if (flags.json) {
    printJson({ marks, queriesWithRelevant: usable, unreadableLines });
    return;
  }
  if (marks.length === 0) process.stdout.write('No judgements yet. Mark results in the search view, or run `specialize judge "<query>" <passage-id>`.\n');
  for (const mark of marks) process.stdout.write(formatMark(mark));
  if (marks.length > 0) process.stdout.write(`${marks.length} marks; ${usable} queries have a relevant result and count in tuning's evaluation.\n`);
  if (unreadableLines > 0) process.stderr.write(`note: ${unreadableLines} unreadable lines of the judgements file were skipped.\n`);
}

function formatMark(mark: LoggedMark): string {
  const what = mark.relevant === null ? 'cleared     ' : mark.relevant ? 'relevant    ' : 'not relevant';
  return `${what}  ${mark.path ?? mark.passageId}  ← "${mark.query}"\n`;
}
