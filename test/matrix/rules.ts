/** The shipped matrix rules, for the matrix tests. */
import { readFileSync } from 'node:fs';
import { parseRuleFile } from '../../src/parse/rule-file.js';
import { isMatrixRule, type MatrixRule } from '../../src/ir/rule.js';

export const MATRIX_RULES = ['shampoo', 'muon', 'one-sided-shampoo'];

export function loadMatrixRule(name: string): MatrixRule {
  const r = parseRuleFile(readFileSync(`rules/${name}.rule`, 'utf8'), `rules/${name}.rule`);
  if (!isMatrixRule(r)) throw new Error(`rules/${name}.rule is not a matrix rule`);
  return r;
}
