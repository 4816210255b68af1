/** Errors of training and sweeps as the one line a user sees (never a stack trace). */
import { RuleError, formatDiagnostic } from '../ir/diagnostics.js';
import { ConfigError } from './config.js';
import { DataError } from './idx.js';

/** A mistake in the user's input (config, data, rule): exit 2 in the CLI. */
export const isInputError = (e: unknown) => e instanceof ConfigError || e instanceof DataError || e instanceof RuleError;

export function describeError(e: unknown): string {
  if (e instanceof RuleError) return e.diagnostics.map((d) => formatDiagnostic(d).replace(/\s*\n\s*/g, ' ')).join('; ');
  if (e instanceof ConfigError || e instanceof DataError) return e.message;
  return `internal error: ${e instanceof Error ? e.message : String(e)}`;
}
