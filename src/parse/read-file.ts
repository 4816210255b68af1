/**
 * Reading a rule file with bounds: only a regular file (a FIFO blocks until someone writes
 * to it, /dev/zero never ends), and at most LIMITS.fileBytes bytes, even if it grows while
 * it is read.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { RuleError } from '../ir/diagnostics.js';
import { LIMITS } from './limits.js';

/** A file that cannot be read; the message is the reason, e.g. 'no such file or directory'. */
export class FileReadError extends Error {}

/** 'ENOENT: no such file or directory, open …' → 'no such file or directory'. */
export function fileErrorReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EISDIR') return 'is a directory';
  const message = e instanceof Error ? e.message : String(e);
  return /^[A-Z]+: (.*?)(?:, \w+(?: .*)?)?$/.exec(message)?.[1] ?? message;
}

const what = (st: Stats) =>
  st.isDirectory() ? 'is a directory'
    : `not a regular file (${st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'not a file'})`;

/** The text of a rule file; FileReadError when it cannot be read, RuleError (rule/too-large) beyond the size limit. */
export function readRuleSource(file: string): string {
  let fd: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new FileReadError(what(st));
    // non-blocking, so that a FIFO put in its place after the stat cannot block the open
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw e instanceof FileReadError ? e : new FileReadError(fileErrorReason(e));
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new FileReadError(what(st));
    const tooLarge = (size: string) =>
      new RuleError({ code: 'rule/too-large', span: { file, line: 1, col: 1 }, message: `a rule file may have at most ${LIMITS.fileBytes} bytes; this one has ${size}` });
    if (st.size > LIMITS.fileBytes) throw tooLarge(String(st.size));
    // one byte more than the limit: a file that grew past it while read is noticed
    const buf = Buffer.allocUnsafe(LIMITS.fileBytes + 1);
    let n = 0;
    for (let k; n < buf.length && (k = readSync(fd, buf, n, buf.length - n, null)) > 0;) n += k;
    if (n > LIMITS.fileBytes) throw tooLarge('more');
    return buf.subarray(0, n).toString('utf8');
  } catch (e) {
    throw e instanceof FileReadError || e instanceof RuleError ? e : new FileReadError(fileErrorReason(e));
  } finally {
    closeSync(fd);
  }
}
