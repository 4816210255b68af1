/**
 * Checkpoints: everything a run needs to continue exactly where it was. The file is a
 * magic line, a JSON header (step, optimizer step index, the config it was written with,
 * array names and lengths) and the arrays as raw little-endian float64, so resuming
 * restores θ and the optimizer state bit for bit. Written to a temporary file and renamed,
 * so a run killed while writing keeps its previous checkpoint.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { DataError } from './idx.js';

const MAGIC = 'memloss-checkpoint 1\n';

export interface Checkpoint {
  /** The next step to run: θ is θ_step. */
  readonly step: number;
  /** The optimizer state's step index n. */
  readonly n: number;
  /** The canonical config text it was written with (compared on resume). */
  readonly config: string;
  readonly arrays: Readonly<Record<string, Float64Array>>;
}

export function writeCheckpoint(file: string, c: Checkpoint): void {
  const names = Object.keys(c.arrays);
  const header = JSON.stringify({ step: c.step, n: c.n, config: c.config, arrays: names.map((k) => [k, c.arrays[k]!.length]) });
  const head = Buffer.from(`${MAGIC}${header}\n`, 'utf8');
  const pad = (8 - (head.length % 8)) % 8; // keep the doubles 8-byte aligned in the file
  const parts = [head, Buffer.alloc(pad, 0x20)];
  for (const k of names) {
    const a = c.arrays[k]!;
    const b = Buffer.alloc(a.length * 8);
    for (let i = 0; i < a.length; i++) b.writeDoubleLE(a[i]!, i * 8);
    parts.push(b);
  }
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, Buffer.concat(parts));
  renameSync(tmp, file);
}

export function readCheckpoint(file: string): Checkpoint | undefined {
  if (!existsSync(file)) return undefined;
  const bytes = readFileSync(file);
  const bad = (why: string): never => {
    throw new DataError(`${file}: not a usable checkpoint (${why}); delete it to start over`);
  };
  if (bytes.subarray(0, MAGIC.length).toString('utf8') !== MAGIC) bad('bad magic line');
  const nl = bytes.indexOf(0x0a, MAGIC.length);
  if (nl < 0) bad('truncated header');
  let header: { step: number; n: number; config: string; arrays: [string, number][] };
  try {
    header = JSON.parse(bytes.subarray(MAGIC.length, nl).toString('utf8'));
  } catch {
    return bad('unreadable header');
  }
  let at = nl + 1;
  at += (8 - (at % 8)) % 8;
  const arrays: Record<string, Float64Array> = {};
  for (const [name, length] of header.arrays) {
    if (at + length * 8 > bytes.length) bad(`truncated array ${name}`);
    const a = new Float64Array(length);
    for (let i = 0; i < length; i++) a[i] = bytes.readDoubleLE(at + i * 8);
    arrays[name] = a;
    at += length * 8;
  }
  if (at !== bytes.length) bad('trailing bytes');
  return { step: header.step, n: header.n, config: header.config, arrays };
}
