/**
 * `memloss sweep`: the jobs of a sweep config on a pool of worker threads (each job is a
 * whole training run, so threads share nothing but messages), then the report. With
 * `resume`, finished jobs (result.json present and complete) are skipped and unfinished
 * ones continue from their checkpoints.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConfigError } from './config.js';
import { RunError, type ErrorKind } from './errors.js';
import type { Job, SweepConfig } from './sweep-config.js';
import type { JobMessage, WorkerReply } from './sweep-worker.js';
import { LOG_FILE, RESULT_FILE, TIMING_FILE, type LogLine, type RunRecord } from './train.js';

export interface JobOutcome {
  readonly job: Job;
  readonly record: RunRecord;
  readonly log: readonly LogLine[];
  /** Seconds per step of the last invocation that ran it (absent when unknown). */
  readonly secondsPerStep?: number;
}

export interface SweepOptions {
  readonly resume?: boolean;
  /** Overrides the config's number of workers. */
  readonly workers?: number;
  readonly onProgress?: (done: number, total: number, finished: number) => void;
}

/** A failure inside a job, of the kind of the error the job met (errors.ts: input, run or internal). */
export class SweepError extends Error {
  constructor(message: string, readonly kind: ErrorKind) {
    super(message);
  }
}

/** A worker running sweep-worker: the compiled .js, or the .ts source through tsx (tests, `MEMLOSS_FROM_SOURCE`). */
function startWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./sweep-worker.js', here));
  const target = JSON.stringify(new URL('./sweep-worker.ts', here).href);
  return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${target}); })`, { eval: true });
}

/** A job's result, undefined while it has none (result.json is written last, atomically, when a run ends). */
export function readOutcome(job: Job): JobOutcome | undefined {
  const resultFile = join(job.config.out, RESULT_FILE);
  if (!existsSync(resultFile)) return undefined;
  const record = JSON.parse(readFileSync(resultFile, 'utf8')) as RunRecord;
  const logFile = join(job.config.out, LOG_FILE);
  const log = readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l, i) => {
    try {
      return JSON.parse(l) as LogLine;
    } catch {
      throw new RunError(`${logFile}: line ${i + 1} is not a log line; run the job again`);
    }
  });
  const timingFile = join(job.config.out, TIMING_FILE);
  const timing = existsSync(timingFile) ? (JSON.parse(readFileSync(timingFile, 'utf8')) as { secondsPerStep: number }) : undefined;
  return { job, record, log, ...(timing ? { secondsPerStep: timing.secondsPerStep } : {}) };
}

const finished = (o: JobOutcome | undefined) => o !== undefined && (o.record.step === o.job.config.steps || o.record.stopped !== null);

export async function runSweep(sweep: SweepConfig, options: SweepOptions = {}): Promise<JobOutcome[]> {
  const outcomes = new Map<string, JobOutcome>();
  const pending: Job[] = [];
  for (const job of sweep.jobs) {
    const o = options.resume ? readOutcome(job) : undefined;
    if (o && finished(o)) outcomes.set(job.config.name, o);
    else pending.push(job);
  }
  // Longest first (a cancellation run costs about three plain ones), so the pool ends together.
  const cost = (j: Job) => j.config.steps * (j.config.cancelMemoryTerm ? 3 : 1);
  pending.sort((a, b) => cost(b) - cost(a));
  const total = sweep.jobs.reduce((s, j) => s + j.config.steps, 0);
  const done = new Map<string, number>(sweep.jobs.map((j) => [j.config.name, outcomes.has(j.config.name) ? j.config.steps : 0]));
  const progress = () => options.onProgress?.([...done.values()].reduce((a, b) => a + b, 0), total, outcomes.size);
  progress();

  const workers = Math.max(1, Math.min(options.workers ?? sweep.workers, pending.length));
  const pool: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0, running = 0;
      if (pending.length === 0) return resolve();
      const feed = (w: Worker) => {
        const job = pending[next++];
        if (!job) {
          if (running === 0) resolve();
          return;
        }
        running++;
        const onMessage = (m: WorkerReply) => {
          if (m.type === 'progress') {
            done.set(m.name, m.done);
            progress();
            return;
          }
          w.off('message', onMessage);
          running--;
          if (m.type === 'error') return reject(new SweepError(`job ${m.name}: ${m.message}`, m.kind));
          const o = readOutcome(job);
          if (!o) return reject(new SweepError(`job ${m.name} finished without a result file`, 'internal'));
          outcomes.set(job.config.name, { ...o, secondsPerStep: m.secondsPerStep });
          done.set(m.name, job.config.steps);
          progress();
          feed(w);
        };
        w.on('message', onMessage);
        w.postMessage({ config: job.config, resume: options.resume ?? false } satisfies JobMessage);
      };
      for (let i = 0; i < workers; i++) {
        const w = startWorker();
        w.on('error', (e) => reject(new SweepError(`a worker failed: ${e.message}`, 'internal')));
        pool.push(w);
        feed(w);
      }
    });
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return sweep.jobs.map((j) => {
    const o = outcomes.get(j.config.name);
    if (!o) throw new ConfigError(`job ${j.config.name} has no result`);
    return o;
  });
}
