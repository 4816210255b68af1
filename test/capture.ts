/** Runs the CLI in-process and captures what it writes to stdout and stderr. */
import { vi } from 'vitest';

export interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function capture(run: () => Promise<number>): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    ((chunk: string | Uint8Array) => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof process.stdout.write;
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(sink((s) => (stdout += s)));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(sink((s) => (stderr += s)));
  try {
    const code = await run();
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** The non-empty lines of a text. */
export const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);

/** True when the text contains a JavaScript stack frame. */
export const hasStackFrame = (text: string) => /^\s+at /m.test(text);
