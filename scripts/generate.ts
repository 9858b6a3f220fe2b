/**
 * `make crds`: writes the CRD and the field reference generated from api/, and the reason-code
 * tables of docs/signals.md generated from the enforcer's registry, and the client helper's
 * proof-of-work worker from the one the challenge page inlines. With --check it writes
 * nothing and fails when the committed files differ from what their sources generate.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { generatedFiles } from '../api/generated-files.ts';
import { POW_WORKER_SOURCE } from '../enforcer/actions/pow-worker.ts';
import { withReasonTables } from '../enforcer/reasons.ts';

const check = process.argv.includes('--check');
let drift = 0;
const files = {
  ...generatedFiles(),
  'docs/signals.md': withReasonTables(readFileSync('docs/signals.md', 'utf8')),
  // The solver the challenge page inlines, for the client helper to load as a Web Worker.
  'clients/js/pow-worker.js': POW_WORKER_SOURCE,
};
for (const [path, content] of Object.entries(files)) {
  if (check) {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {}
    if (current !== content) {
      console.error(`${path} is out of date: run make crds`);
      drift++;
    }
  } else {
    writeFileSync(path, content);
    console.log(`wrote ${path}`);
  }
}
process.exit(drift === 0 ? 0 : 1);
