/**
 * The walls between the parts of the code base, read from the import graph (type imports and
 * dynamic imports included). A wall crossed fails here with the file and the import:
 *
 * - api/ (the schema) imports nothing else of ours; contract/ only api/; lib/ nothing.
 * - operator/ and enforcer/ never import each other: what they share is in contract/.
 * - a signal never imports the proxy, the actions or the HTTP listener: it scores, it does not act.
 * - the decision core (enforcer/decision/) does no I/O.
 * - no import cycles, type-only ones included.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', '.git', '.tmp', 'dist', 'fixtures']);

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (name.endsWith('.ts')) out.push(relative(ROOT, path));
  }
  return out;
}

interface ImportEdge {
  from: string;
  /** Repository path for our own modules, the specifier for packages and node: builtins. */
  to: string;
}

function importGraph(): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(ROOT)) {
    const info = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
    for (const ref of info.importedFiles) {
      const spec = ref.fileName;
      const to = spec.startsWith('.') ? normalize(join(dirname(file), spec)) : spec;
      edges.push({ from: file, to });
    }
  }
  return edges;
}

const graph = importGraph();
const isTest = (f: string) => /\.test\.ts$/.test(f);
const under = (folder: string) => (f: string) => f.startsWith(`${folder}/`);
const ours = (to: string) => !to.startsWith('node:') && /\.ts$/.test(to);

function crossings(
  from: (f: string) => boolean,
  allowed: (to: string) => boolean,
  options: { tests?: boolean } = {},
): string[] {
  return graph
    .filter((e) => from(e.from) && (options.tests !== false || !isTest(e.from)) && !allowed(e.to))
    .map((e) => `${e.from} → ${e.to}`);
}

describe('walls', () => {
  it('api/ imports nothing else of ours', () => {
    expect(crossings(under('api'), (to) => !ours(to) || under('api')(to))).toEqual([]);
  });

  it('contract/ imports only api/', () => {
    expect(
      crossings(under('contract'), (to) => !ours(to) || under('api')(to) || under('contract')(to)),
    ).toEqual([]);
  });

  it('lib/ imports nothing of ours', () => {
    expect(crossings(under('lib'), (to) => !ours(to) || under('lib')(to))).toEqual([]);
  });

  it('operator/ and enforcer/ never import each other', () => {
    expect(crossings(under('operator'), (to) => !under('enforcer')(to))).toEqual([]);
    expect(crossings(under('enforcer'), (to) => !under('operator')(to))).toEqual([]);
  });

  it('a signal scores and learns; it does not act, proxy or listen', () => {
    const acting = (to: string) =>
      under('enforcer/proxy')(to) ||
      under('enforcer/actions')(to) ||
      to === 'enforcer/traffic-server.ts' ||
      to === 'enforcer/request-path.ts' ||
      ['fastify', 'undici', 'ioredis'].includes(to);
    expect(crossings(under('enforcer/signals'), (to) => !acting(to), { tests: false })).toEqual([]);
  });

  it('the decision core does no I/O', () => {
    const pure = (to: string) =>
      under('enforcer/decision')(to) || (to.startsWith('api/') && ours(to)) || to === 'vitest';
    expect(crossings(under('enforcer/decision'), pure)).toEqual([]);
  });

  it('has no import cycles', () => {
    const files = new Set(graph.map((e) => e.from));
    const next = new Map<string, string[]>();
    for (const e of graph) {
      if (!files.has(e.to)) continue;
      next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    }
    // Tarjan's strongly connected components: any with more than one file is a cycle.
    let index = 0;
    const indices = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    const visit = (v: string) => {
      indices.set(v, index);
      low.set(v, index);
      index++;
      stack.push(v);
      onStack.add(v);
      for (const w of next.get(v) ?? []) {
        if (!indices.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
      if (low.get(v) === indices.get(v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== v);
        if (component.length > 1) cycles.push(component.sort());
      }
    };
    for (const f of files) if (!indices.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
