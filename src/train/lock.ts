/**
 * An exclusive lock on a run directory, so that two runs never write the same log and
 * checkpoint. The lock is a file created with O_EXCL ('wx': exactly one creator wins)
 * holding the owner's pid and host. A lock whose owner has died (kill -9, a crash) is
 * stale and is taken over; a live owner's lock refuses the second run with one line.
 */
import { linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import { onFile, RunError } from './errors.js';

export const LOCK_FILE = 'run.lock';

interface Owner { readonly pid: number; readonly host: string; readonly thread: number }

/** The lock files this thread holds: a lock naming this pid and thread but not held here was left by a dead process whose pid we got. */
const held = new Set<string>();

const parseOwner = (text: string): Owner | undefined => {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    return Number.isInteger(o.pid) && typeof o.host === 'string' && Number.isInteger(o.thread) ? (o as Owner) : undefined;
  } catch {
    return undefined;
  }
};

/** Whether the owner may still hold the lock. Owners on other hosts (no way to tell) count as alive. */
function alive(o: Owner, file: string): boolean {
  if (o.host !== hostname()) return true;
  if (o.pid === process.pid) return o.thread !== threadId || held.has(resolve(file));
  try {
    process.kill(o.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH'; // EPERM: alive, another user's
  }
}

const readText = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
};

/** Creates the lock file holding `text`; false when it exists. */
function create(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, text);
  } catch (e) {
    unlinkSync(file); // an empty lock would refuse every later run
    throw e;
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes the lock of `dir` (which must exist) and returns its release. Throws RunError when
 * a live run holds it.
 */
export function lockRunDir(dir: string): () => void {
  const file = join(dir, LOCK_FILE);
  const mine = `${JSON.stringify({ pid: process.pid, host: hostname(), thread: threadId })}\n`;
  return onFile(file, () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (create(file, mine)) {
        held.add(resolve(file));
        return () => release(file, mine);
      }
      const text = readText(file);
      if (text === undefined) continue; // released meanwhile
      const owner = parseOwner(text);
      // an unreadable lock may be one being written this instant: treated as held
      if (!owner || alive(owner, file)) throw busy(dir, file, owner);
      takeOverStale(file, text);
    }
    throw new RunError(`${dir}: could not take the lock ${file} (other runs keep taking it)`);
  }, 'cannot lock');
}

const busy = (dir: string, file: string, o: Owner | undefined) =>
  new RunError(
    `${dir} is in use by another run (${o ? `pid ${o.pid}${o.host !== hostname() ? ` on ${o.host}` : ''}` : 'unreadable lock'}); ` +
    `wait for it to end, or delete ${file} if no run uses the directory`,
  );

/**
 * Removes a stale lock without removing a fresh one that another process put there after
 * we read it: move it aside under a name of our own, check it is the stale one, and if it
 * is not, put it back (link fails rather than overwrite a newer lock).
 */
function takeOverStale(file: string, staleText: string): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    renameSync(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else took it over
    throw e;
  }
  if (readText(aside) !== staleText) {
    try { linkSync(aside, file); } catch { /* a newer lock is there: it wins */ }
  }
  unlinkSync(aside);
}

/** Removes the lock if it is still ours; never throws (it runs after the run's own errors). */
function release(file: string, mine: string): void {
  held.delete(resolve(file));
  try {
    if (readText(file) === mine) unlinkSync(file);
  } catch { /* nothing to do: a stale lock is taken over by the next run */ }
}
