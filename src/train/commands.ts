/**
 * `memloss train` and `memloss sweep` behind the CLI (src/cli.ts only parses arguments).
 * Exit codes: 0 done, 1 a run stopped (NaN or divergence) or cannot go on (its directory is
 * in use, a file cannot be written, the checkpoint or log does not fit), 2 a mistake in the
 * config, data or rule file (one line naming the file and the key), 3 internal error
 * (thrown to the CLI).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { progressBar } from '../numeric/progress.js';
import { readTrainConfig } from './config.js';
import { describeError, errorKind, onFile } from './errors.js';
import { lockRunDir } from './lock.js';
import { writeReport } from './report.js';
import { readSweepConfig, type SweepConfig } from './sweep-config.js';
import { writeFileAtomic } from './files.js';
import { readOutcome, runSweep, SweepError, type JobOutcome } from './sweep.js';
import { trainAndRecord, type TrainOptions } from './train.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const EXIT = { ok: 0, stopped: 1, input: 2 } as const;

/** Input errors become one line and exit 2, a run that cannot go on one line and exit 1; anything else is rethrown (an internal error). */
function userErrors(io: Io, run: () => Promise<number> | number): Promise<number> {
  const fail = (e: unknown) => {
    const kind = e instanceof SweepError ? e.kind : errorKind(e);
    if (kind === 'internal') throw e;
    io.err(`memloss: ${e instanceof SweepError ? e.message : describeError(e)}\n`);
    return kind === 'input' ? EXIT.input : EXIT.stopped;
  };
  try {
    return Promise.resolve(run()).catch(fail);
  } catch (e) {
    return Promise.resolve(fail(e));
  }
}

export interface TrainArgs { readonly config: string; readonly resume: boolean; readonly cancelMemoryTerm: boolean }

/** `options`: for tests, the file operations of the run (to make them fail). */
export function trainCommand(args: TrainArgs, io: Io, options: Pick<TrainOptions, 'fileOps'> = {}): Promise<number> {
  return userErrors(io, () => {
    const file = readTrainConfig(args.config);
    const config = args.cancelMemoryTerm ? { ...file, cancelMemoryTerm: true } : file;
    const bar = progressBar(process.stderr);
    const { result } = trainAndRecord(config, {
      ...options,
      resume: args.resume,
      onLog: (_line, text) => {
        bar.done();
        io.out(`${text}\n`);
      },
      onProgress: (done, total) => bar.update(done, total, config.name),
    });
    bar.done();
    if (result.stopped) {
      io.err(`memloss: ${result.stopped} (log kept in ${config.out})\n`);
      return EXIT.stopped;
    }
    io.err(`memloss: ${config.name}: ${result.step} steps, ${(1000 * result.secondsPerStep).toFixed(1)} ms per step; log, checkpoint and result in ${config.out}\n`);
    return EXIT.ok;
  });
}

/** sweep-timing.json: the total wall time and that of each invocation (the first, then each --resume). */
interface SweepTiming { readonly wallSeconds: number; readonly load: string; readonly invocations?: readonly number[] }

export interface SweepArgs { readonly sweep: string; readonly resume: boolean; readonly workers?: number; readonly reportOnly: boolean }

export function sweepCommand(args: SweepArgs, io: Io): Promise<number> {
  return userErrors(io, async () => {
    const sweep = readSweepConfig(args.sweep);
    // one sweep at a time in its directory (each run locks its own as well)
    onFile(sweep.out, () => mkdirSync(sweep.out, { recursive: true }), 'cannot create the sweep directory');
    const release = lockRunDir(sweep.out);
    try {
      return await sweepLocked(sweep, args, io);
    } finally {
      release();
    }
  });
}

async function sweepLocked(sweep: SweepConfig, args: SweepArgs, io: Io): Promise<number> {
  const t0 = performance.now();
  let outcomes: JobOutcome[];
  if (args.reportOnly) {
    outcomes = sweep.jobs.map((j) => {
      const o = readOutcome(j);
      if (!o) throw new SweepError(`--report-only: run ${j.config.name} has no result in ${j.config.out}`, 'input');
      return o;
    });
  } else {
    const bar = progressBar(process.stderr);
    outcomes = await runSweep(sweep, {
      resume: args.resume,
      ...(args.workers !== undefined ? { workers: args.workers } : {}),
      onProgress: (done, total, finished) => bar.update(done, total, `${sweep.name}: ${finished}/${sweep.jobs.length} runs`),
    });
    bar.done();
  }
  // The sweep's wall time is kept beside the runs, so that --report-only can still print it;
  // --resume adds its time to the earlier invocations'.
  const timingFile = join(sweep.out, 'sweep-timing.json');
  const earlier = existsSync(timingFile) ? (JSON.parse(readFileSync(timingFile, 'utf8')) as SweepTiming) : undefined;
  let timing = earlier;
  if (!args.reportOnly) {
    const now = (performance.now() - t0) / 1000, load = loadavg().map((x) => x.toFixed(2)).join(', ');
    timing = args.resume && earlier
      ? { wallSeconds: earlier.wallSeconds + now, load, invocations: [...(earlier.invocations ?? [earlier.wallSeconds]), now] }
      : { wallSeconds: now, load, invocations: [now] };
    writeFileAtomic(timingFile, `${JSON.stringify(timing, null, 2)}\n`);
  }
  const command = ['memloss', 'sweep', args.sweep].join(' ');
  await writeReport(sweep, outcomes, { sweepFile: args.sweep, command, ...(timing ?? {}) });
  const wall = timing?.wallSeconds ?? 0;
  const stopped = outcomes.filter((o) => o.record.stopped !== null);
  for (const o of stopped) io.err(`memloss: ${o.job.config.name}: ${o.record.stopped}\n`);
  io.out(`${sweep.jobs.length} runs${args.reportOnly ? '' : ` in ${(wall / 60).toFixed(1)} min`}; report written to ${sweep.report}\n`);
  return stopped.length ? EXIT.stopped : EXIT.ok;
}
