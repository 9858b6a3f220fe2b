/** The image cannot be built here (no Docker engine); what can be checked, is. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS, PROCESS_ENV } from '../cli/node-flags.ts';

const lines = readFileSync('Dockerfile', 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('Dockerfile', () => {
  it('pins every base image to an exact version, never latest', () => {
    const bases = lines.filter((l) => l.startsWith('FROM ')).map((l) => l.split(/\s+/)[1]!);
    expect(bases.length).toBeGreaterThanOrEqual(2);
    for (const b of bases) {
      expect(b).toMatch(/^[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$/);
      expect(b).not.toMatch(/:latest\b/);
    }
  });

  it('runs as a non-root user in the final stage, with riskgate as the entrypoint', () => {
    const final = lines.slice(lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true));
    const user = final.find((l) => l.startsWith('USER '));
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER\s+(root|0)(\b|:)/);
    const entrypoint = JSON.parse(final.find((l) => l.startsWith('ENTRYPOINT'))!.slice('ENTRYPOINT'.length));
    expect(entrypoint).toEqual(['node', ...NODE_FLAGS, '/app/dist/cli/main.js']);
  });

  it('bin/riskgate runs Node with the same flags as the image', () => {
    const exec = readFileSync('bin/riskgate', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('exec '))!;
    expect(exec).toBe(`exec "$node" ${NODE_FLAGS.join(' ')} "$root/cli/main.ts" "$@"`);
  });

  it("sets riskgate's process environment in the image and in bin/riskgate", () => {
    const final = lines.slice(lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true)).join('\n');
    const script = readFileSync('bin/riskgate', 'utf8');
    for (const [name, value] of Object.entries(PROCESS_ENV)) {
      expect(final).toMatch(new RegExp(`^ENV [^]*\\b${name}=${value}\\b`, 'm'));
      expect(script).toContain(`: "\${${name}:=${value}}"\nexport ${name}\n`);
    }
  });

  it('ships dependencies installed without dev dependencies, and only the compiled dist/ of the compile stage', () => {
    const stages = lines.filter((l) => l.startsWith('FROM ')).map((l) => l.split(/\s+/)[3]);
    const runtimeStage = lines.slice(lines.indexOf(lines.find((l) => l.endsWith('AS runtime'))!));
    const install = runtimeStage.find((l) => l.includes('npm ci'));
    expect(install).toContain('--omit=dev');
    const finalCopies = lines.filter((l) => l.startsWith('COPY --from='));
    expect(finalCopies).toContain('COPY --from=compile /src/dist ./dist');
    expect(finalCopies.at(-1)).toMatch(/^COPY --from=runtime .* \/app \/app$/);
    expect(stages).toEqual(['compile', 'runtime', undefined]);
  });

  it('copies every source folder the build compiles into the compile stage', () => {
    const include: string[] = JSON.parse(readFileSync('tsconfig.build.json', 'utf8')).include;
    const copied = lines.filter((l) => /^COPY \w+ \.\/\w+$/.test(l)).map((l) => l.split(' ')[1]);
    expect(copied.sort()).toEqual([...include].sort());
  });
});
