/**
 * The riskgate command line: one binary for the enforcer, the operator and the tools around them.
 */
import { runEnforce } from './enforce.ts';
import { runExplain } from './explain.ts';
import { runOperator } from './operator.ts';
import { runValidate } from './validate.ts';

const USAGE = `riskgate — risk-based access control for APIs

Usage:
  riskgate validate FILE...     check RiskPolicy manifests offline with the cluster's rules
  riskgate enforce ...          run the enforcer (sidecar or standalone)
  riskgate operator ...         run the Kubernetes operator and injection webhook
  riskgate explain ...          score one described request offline

Run 'riskgate COMMAND --help' for a command's options.
`;

type Command = (args: string[]) => Promise<number> | number;

const commands: Record<string, Command> = {
  validate: runValidate,
  enforce: runEnforce,
  operator: runOperator,
  explain: runExplain,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`riskgate: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return command(rest);
}

process.exitCode = await main(process.argv.slice(2));
