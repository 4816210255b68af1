/**
 * The training log (log.jsonl) as found on resume. Every line is written whole with its
 * newline, so the only damage a kill or a full disk can do is a last line without one (a
 * torn tail): that line is dropped and its step computed again. Everything else must be
 * exactly the lines the run logs before the checkpoint's step, in order; a log that lost
 * or gained lines (an older memloss, two runs at once, an edit) is refused, because resuming
 * from it would splice two runs.
 */
import { RunError } from './errors.js';

export interface ResumedLog {
  /** The text to keep: the lines of the steps before the checkpoint. */
  readonly kept: string;
  /** Whether a torn last line was dropped. */
  readonly torn: boolean;
}

/**
 * `text` is the log's content (undefined: no log), `start` the checkpoint's step and
 * `expected` the steps the run logs before it.
 */
export function resumeLog(file: string, text: string | undefined, start: number, expected: readonly number[]): ResumedLog {
  const refuse = (why: string): never => {
    throw new RunError(`${file} does not fit the checkpoint at step ${start}: ${why}; start over without --resume`);
  };
  if (text === undefined) return expected.length ? refuse('the log is missing') : { kept: '', torn: false };
  const lines = text.split('\n');
  const tail = lines.pop()!; // after the last newline: empty unless the last line is torn
  const kept: string[] = [];
  for (const [i, line] of lines.entries()) {
    const step = stepOf(line);
    if (step === undefined) refuse(`line ${i + 1} is not a log line`);
    if (step! >= start) break; // this line and the rest are computed again
    const want = expected[kept.length];
    if (step !== want) refuse(want === undefined ? `line ${i + 1} is step ${step}, after the last logged step before the checkpoint` : `line ${i + 1} is step ${step} where step ${want} belongs`);
    kept.push(line);
  }
  if (kept.length < expected.length) refuse(`the line of step ${expected[kept.length]} is missing`);
  return { kept: kept.map((l) => `${l}\n`).join(''), torn: tail !== '' };
}

function stepOf(line: string): number | undefined {
  try {
    const v = JSON.parse(line) as { step?: unknown };
    return typeof v === 'object' && v !== null && Number.isSafeInteger(v.step) && (v.step as number) >= 0 ? (v.step as number) : undefined;
  } catch {
    return undefined;
  }
}
