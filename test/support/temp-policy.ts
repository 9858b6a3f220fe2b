/** Writes a policy (and its side files) into a fresh temporary folder. */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempPolicy {
  dir: string;
  file: string;
  write(yaml: string): void;
  writeFile(name: string, content: string): void;
  remove(): void;
}

export function tempPolicy(yaml: string, files: Record<string, string> = {}): TempPolicy {
  const dir = mkdtempSync(join(tmpdir(), 'riskgate-test-'));
  cpSync(new URL('../../examples/keys', import.meta.url), join(dir, 'keys'), { recursive: true });
  const file = join(dir, 'policy.yaml');
  const t: TempPolicy = {
    dir,
    file,
    write: (text) => writeFileSync(file, text),
    writeFile: (name, content) => writeFileSync(join(dir, name), content),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  for (const [name, content] of Object.entries(files)) t.writeFile(name, content);
  t.write(yaml);
  return t;
}

/** Polls until `check` passes or the time is up; returns whether it passed. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}
