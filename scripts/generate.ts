/**
 * `make crds`: writes the CRD and the field reference generated from api/. With --check it
 * writes nothing and fails when the committed files differ from what the schema generates.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { generatedFiles } from '../api/generated-files.ts';

const check = process.argv.includes('--check');
let drift = 0;
for (const [path, content] of Object.entries(generatedFiles())) {
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
