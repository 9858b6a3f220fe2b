/**
 * docs/security.md carries rows the tests observe (doc-block.ts); UPDATE_SECURITY_DOC=1
 * rewrites them.
 */
import { checkDocBlock } from './doc-block.ts';

export function checkSecurityRow(id: string, row: string): void {
  checkDocBlock('docs/security.md', id, row, 'UPDATE_SECURITY_DOC');
}
