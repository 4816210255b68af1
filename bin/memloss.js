#!/usr/bin/env node
// The memloss command. Runs the compiled dist/cli.js when it exists (npm ci builds it via
// `prepare`); otherwise, or with MEMLOSS_FROM_SOURCE=1, runs src/cli.ts through tsx.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/cli.js', import.meta.url);
let cli;
if (existsSync(dist) && process.env.MEMLOSS_FROM_SOURCE !== '1') {
  cli = await import(dist.href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write("memloss: dist/cli.js is missing and tsx is not installed; run 'npm ci' or 'npm run build'\n");
    process.exit(1);
  }
  register();
  cli = await import(new URL('../src/cli.ts', import.meta.url).href);
}

// A closed pipe (memloss … | head) is not an error: exit quietly. Any other write error (a full
// disk: memloss derive … > /dev/full) is one line on stderr and exit 1, never a stack trace.
const onWriteError = (name) => (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  const reason = /^[A-Z]+: (.*?)(?:, \w+)?$/.exec(e.message)?.[1] ?? e.message;
  if (name === 'stdout') {
    try {
      process.stderr.write(`memloss: cannot write to standard output: ${reason}\n`);
    } catch {
      // stderr is gone too: the exit code is all that is left
    }
  }
  process.exit(1);
};
process.stdout.on('error', onWriteError('stdout'));
process.stderr.on('error', onWriteError('stderr'));
process.exitCode = await cli.main(process.argv.slice(2));
