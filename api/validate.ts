/**
 * Offline validation of RiskPolicy manifests with the rules the cluster applies: the zod schema
 * from which the CRD and its CEL rules are generated.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { GROUP, KIND, type RiskPolicy, riskPolicy } from './riskpolicy.ts';

export interface ValidationError {
  file: string;
  line?: number;
  document: number;
  /** Field path in the manifest, e.g. spec.thresholds.deny */
  path: string;
  message: string;
}

export interface ValidatedPolicy {
  file: string;
  document: number;
  policy: RiskPolicy;
}

export interface ValidationResult {
  policies: ValidatedPolicy[];
  errors: ValidationError[];
  /** Documents of other kinds, which a RiskPolicy file may carry beside its policies. */
  skipped: number;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(document)';
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ');
}

/** Validates every RiskPolicy document in a YAML (or JSON) text. */
export function validateText(text: string, file: string): ValidationResult {
  const result: ValidationResult = { policies: [], errors: [], skipped: 0 };
  const lines = new LineCounter();
  // YAML 1.1, as kubectl reads manifests: `on`, `yes` and `y` are booleans there too.
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, version: '1.1' });
  if (!Array.isArray(docs)) return result; // an empty stream
  docs.forEach((doc, index) => {
    const document = index + 1;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        result.errors.push({
          file,
          document,
          line: lines.linePos(e.pos[0]).line,
          path: '(document)',
          message: `not valid YAML: ${e.message.split('\n')[0]}`,
        });
      }
      return;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) {
      result.errors.push({ file, document, path: '(document)', message: 'expected a Kubernetes object' });
      return;
    }
    const { apiVersion, kind } = value as { apiVersion?: unknown; kind?: unknown };
    const ours = typeof apiVersion === 'string' && apiVersion.split('/')[0] === GROUP;
    if (!ours && kind !== KIND) {
      result.skipped++;
      return;
    }
    const parsed = riskPolicy.safeParse(value);
    if (parsed.success) {
      result.policies.push({ file, document, policy: parsed.data });
      return;
    }
    for (const issue of parsed.error.issues) {
      const node = doc.getIn(issue.path as (string | number)[], true) as { range?: [number] } | undefined;
      const offset = node?.range?.[0];
      result.errors.push({
        file,
        document,
        path: formatPath(issue.path),
        message: issue.message,
        ...(offset === undefined ? {} : { line: lines.linePos(offset).line }),
      });
    }
  });
  return result;
}

export function validateFile(file: string): ValidationResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    return {
      policies: [],
      skipped: 0,
      errors: [{ file, document: 0, path: '(file)', message: `cannot read: ${reason}` }],
    };
  }
  return validateText(text, file);
}
