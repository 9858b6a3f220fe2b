/**
 * The riskgate command line: one binary for the enforcer, the operator and the tools around them.
 */

import { holdTickShape } from './tick-shape.ts';

// First, before any command loads: a collection may come at any time after (tick-shape.ts).
holdTickShape();

const USAGE = `riskgate — risk-based access control for APIs

Usage:
  riskgate validate FILE...     check RiskPolicy manifests offline with the cluster's rules
  riskgate enforce ...          run the enforcer (sidecar or standalone)
  riskgate operator ...         run the Kubernetes operator and injection webhook
  riskgate explain ...          score one described request offline

Run 'riskgate COMMAND --help' for a command's options.
`;

type Command = (args: string[]) => Promise<number> | number;

// Each command loads only its own modules: the enforcer sidecar never loads the Kubernetes
// client, and the operator never loads the GeoIP readers.
const commands: Record<string, () => Promise<Command>> = {
  validate: async () => (await import('./validate.ts')).runValidate,
  enforce: async () => (await import('./enforce.ts')).runEnforce,
  operator: async () => (await import('./operator.ts')).runOperator,
  explain: async () => (await import('./explain.ts')).runExplain,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    process.stderr.write(`riskgate: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return (await load())(rest);
}

process.exitCode = await main(process.argv.slice(2));
