/**
 * A worker thread of `memloss sweep`: runs the jobs it is sent, one at a time, and answers
 * with progress and the run record. Data sets are kept between jobs with the same data config.
 */
import { parentPort } from 'node:worker_threads';
import type { TrainConfig } from './config.js';
import { loadDataSet, type DataSet } from './data.js';
import { trainAndRecord } from './train.js';
import { describeError, errorKind, type ErrorKind } from './errors.js';

export interface JobMessage { readonly config: TrainConfig; readonly resume: boolean }
export type WorkerReply =
  | { readonly type: 'progress'; readonly name: string; readonly done: number }
  | { readonly type: 'done'; readonly name: string; readonly secondsPerStep: number; readonly seconds: number }
  | { readonly type: 'error'; readonly name: string; readonly message: string; readonly kind: ErrorKind };

const port = parentPort!;
const data = new Map<string, DataSet>();
const post = (m: WorkerReply) => port.postMessage(m);

port.on('message', ({ config, resume }: JobMessage) => {
  try {
    const key = JSON.stringify(config.data);
    let ds = data.get(key);
    if (!ds) data.set(key, (ds = loadDataSet(config.data)));
    let lastPosted = 0;
    const { result } = trainAndRecord(config, {
      resume,
      data: ds,
      onProgress: (done) => {
        if (done - lastPosted >= 10 || done === config.steps) post({ type: 'progress', name: config.name, done: (lastPosted = done) });
      },
    });
    post({ type: 'done', name: config.name, secondsPerStep: result.secondsPerStep, seconds: result.seconds });
  } catch (e) {
    post({ type: 'error', name: config.name, message: describeError(e), kind: errorKind(e) });
  }
});
