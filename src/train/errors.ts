/** Errors of training and sweeps as the one line a user sees (never a stack trace). */
import { RuleError, formatDiagnostic } from '../ir/diagnostics.js';
import { ConfigError } from './config.js';
import { DataError } from './idx.js';

/**
 * The run cannot go on as asked, though the config is fine: its directory is in use by
 * another run, a file cannot be written (a full disk), or the checkpoint or log on disk
 * does not fit the run. Exit 1 in the CLI, like a run that stops.
 */
export class RunError extends Error {}

/** A mistake in the user's input (config, data, rule): exit 2 in the CLI. */
export const isInputError = (e: unknown) => e instanceof ConfigError || e instanceof DataError || e instanceof RuleError;

/** input: exit 2; run: exit 1 (the run cannot go on); internal: a bug, exit 3. */
export type ErrorKind = 'input' | 'run' | 'internal';

export const errorKind = (e: unknown): ErrorKind =>
  isInputError(e) ? 'input' : e instanceof RunError || isSystemError(e) ? 'run' : 'internal';

export function describeError(e: unknown): string {
  if (e instanceof RuleError) return e.diagnostics.map((d) => formatDiagnostic(d).replace(/\s*\n\s*/g, ' ')).join('; ');
  if (e instanceof ConfigError || e instanceof DataError || e instanceof RunError) return e.message;
  // a file operation that no caller named (onFile) still reads as one line
  if (isSystemError(e)) return `${READS.has(e.syscall ?? '') ? 'cannot read' : 'cannot write'}${e.path ? ` ${e.path}` : ''}: ${systemReason(e)}`;
  return `internal error: ${e instanceof Error ? e.message : String(e)}`;
}

const READS = new Set(['read', 'stat', 'lstat', 'scandir', 'access']);

/** What the file system said, in words (errno codes a user meets when writing a run). */
const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EROFS: 'read-only file system',
  EFBIG: 'file too large',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'exists and is not a directory',
  ENAMETOOLONG: 'name too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
};

/** An error of the operating system (ENOSPC, EIO, …), as Node's fs functions throw them. */
export const isSystemError = (e: unknown): e is NodeJS.ErrnoException =>
  e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z0-9]+$/.test((e as NodeJS.ErrnoException).code!);

export const systemReason = (e: NodeJS.ErrnoException) => REASONS[e.code!] ?? e.code!.toLowerCase();

/**
 * Runs a file operation on `file`; an operating-system failure becomes one line naming the
 * file (`cannot write runs/x/log.jsonl: no space left on device`), anything else passes.
 */
export function onFile<T>(file: string, op: () => T, what = 'cannot write'): T {
  try {
    return op();
  } catch (e) {
    if (isSystemError(e)) throw new RunError(`${what} ${file}: ${systemReason(e)}`);
    throw e;
  }
}
