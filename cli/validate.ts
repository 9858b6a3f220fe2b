import { parseArgs } from 'node:util';
import { validateFile } from '../api/validate.ts';

const HELP = `Usage: riskgate validate FILE...

Validates RiskPolicy manifests (YAML or JSON, several documents per file allowed) with the same
rules the apiserver applies through the CRD. Prints FILE:LINE: field.path: reason for each error.
Documents of other kinds are skipped. Exits 0 only when every RiskPolicy is valid, 1 otherwise,
and 2 on usage errors.

Options:
  -q, --quiet   print errors only
  -h, --help    show this help
`;

export function runValidate(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(HELP);
    return 2;
  }
  let failed = false;
  for (const file of positionals) {
    const result = validateFile(file);
    for (const e of result.errors) {
      const where = e.line === undefined ? e.file : `${e.file}:${e.line}`;
      process.stderr.write(`${where}: ${e.path}: ${e.message}\n`);
    }
    if (result.errors.length > 0) failed = true;
    else if (result.policies.length === 0) {
      process.stderr.write(`${file}: no RiskPolicy found\n`);
      failed = true;
    } else if (!values.quiet) {
      for (const p of result.policies)
        process.stdout.write(`${file}: RiskPolicy ${p.policy.metadata.name} is valid\n`);
    }
  }
  return failed ? 1 : 0;
}
