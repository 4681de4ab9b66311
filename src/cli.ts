import { Command, CommanderError } from 'commander';
import { registerBench } from './cli/commands/bench';
import { registerDemo } from './cli/commands/demo';
import { registerDoctor } from './cli/commands/doctor';
import { registerEval } from './cli/commands/eval';
import { registerIndex } from './cli/commands/index';
import { registerJudge } from './cli/commands/judge';
import { registerModels } from './cli/commands/models';
import { registerSearch } from './cli/commands/search';
import { registerSynth } from './cli/commands/synth';
import { registerTune } from './cli/commands/tune';
import { registerUse } from './cli/commands/use';
import { registerWatch } from './cli/commands/watch';

/** `specialize` command line: the headless front end over src/core. */
const program = new Command('specialize')
  .description('Specialize a dense retriever to your own code and docs: index, search, evaluate.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  // Usage errors exit 2 like every other problem the user can fix (commander's default is 1).
  .exitOverride();

registerIndex(program);
registerWatch(program);
registerSearch(program);
registerJudge(program);
registerEval(program);
registerSynth(program);
registerTune(program);
registerBench(program);
registerModels(program);
registerUse(program);
registerDemo(program);
registerDoctor(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // commander has already printed the message (or the help / version text).
    process.exitCode = error.exitCode === 0 ? 0 : 2;
    return;
  }
  process.stderr.write(`specialize: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
