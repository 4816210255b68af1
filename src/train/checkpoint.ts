/**
 * Checkpoints: everything a run needs to continue exactly where it was. The file is a
 * magic line, a JSON header (step, optimizer step index, the config it was written with,
 * the sha256 of the rule file and of the data, array names and lengths), the arrays as
 * raw little-endian float64 (so resuming restores θ and the optimizer state bit for bit),
 * and the sha256 of everything before it. Written atomically (files.ts), so a run killed
 * while writing keeps its previous checkpoint; a file changed afterwards (a flipped bit,
 * an edited header) fails the checksum and is refused.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { onFile, RunError } from './errors.js';
import { writeFileAtomic, type FileOps } from './files.js';

const MAGIC = 'memloss-checkpoint 2\n';
const OLD_MAGIC = 'memloss-checkpoint 1\n';
const DIGEST_BYTES = 32;

export interface Checkpoint {
  /** The next step to run: θ is θ_step. */
  readonly step: number;
  /** The optimizer state's step index n (one optimizer step per training step: n = step). */
  readonly n: number;
  /** The canonical config text it was written with (compared on resume). */
  readonly config: string;
  /** sha256 of the rule file's bytes. */
  readonly ruleHash: string;
  /** sha256 of the data as loaded (dataHash in data.ts). */
  readonly dataHash: string;
  readonly arrays: Readonly<Record<string, Float64Array>>;
}

export const sha256 = (...parts: readonly Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

export function encodeCheckpoint(c: Checkpoint): Buffer {
  const names = Object.keys(c.arrays);
  const header = JSON.stringify({ step: c.step, n: c.n, config: c.config, ruleHash: c.ruleHash, dataHash: c.dataHash, arrays: names.map((k) => [k, c.arrays[k]!.length]) });
  const head = Buffer.from(`${MAGIC}${header}\n`, 'utf8');
  const pad = (8 - (head.length % 8)) % 8; // keep the doubles 8-byte aligned in the file
  const parts = [head, Buffer.alloc(pad, 0x20)];
  for (const k of names) {
    const a = c.arrays[k]!;
    const b = Buffer.alloc(a.length * 8);
    for (let i = 0; i < a.length; i++) b.writeDoubleLE(a[i]!, i * 8);
    parts.push(b);
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, sha256(body)]);
}

export function writeCheckpoint(file: string, c: Checkpoint, ops?: FileOps): void {
  writeFileAtomic(file, encodeCheckpoint(c), ops);
}

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isHash = (x: unknown): x is string => typeof x === 'string' && /^[0-9a-f]{64}$/.test(x);

/** The checkpoint in `file`, undefined when there is none; RunError when it is damaged. */
export function readCheckpoint(file: string): Checkpoint | undefined {
  if (!existsSync(file)) return undefined;
  const bytes = onFile(file, () => readFileSync(file), 'cannot read');
  const bad = (why: string): never => {
    throw new RunError(`${file}: not a usable checkpoint (${why}); delete it to start over`);
  };
  if (bytes.subarray(0, OLD_MAGIC.length).toString('utf8') === OLD_MAGIC) bad('written by an earlier memloss, without a checksum');
  if (bytes.subarray(0, MAGIC.length).toString('utf8') !== MAGIC) bad('bad magic line');
  if (bytes.length < MAGIC.length + DIGEST_BYTES) bad('truncated');
  const body = bytes.subarray(0, bytes.length - DIGEST_BYTES);
  if (!sha256(body).equals(bytes.subarray(body.length))) bad('checksum mismatch: the file was changed or damaged after it was written');
  // The checksum passed: what follows guards against a file that was written wrong, not damaged.
  const nl = body.indexOf(0x0a, MAGIC.length);
  if (nl < 0) bad('truncated header');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(body.subarray(MAGIC.length, nl).toString('utf8')) as Record<string, unknown>;
  } catch {
    return bad('unreadable header');
  }
  const { step, n, config, ruleHash, dataHash, arrays: list } = header;
  if (!isCount(step)) bad(`header: step ${JSON.stringify(step)} is not a non-negative integer`);
  if (!isCount(n) || n !== step) bad(`header: optimizer step index ${JSON.stringify(n)} is not the step ${step}`);
  if (typeof config !== 'string') bad('header: no config');
  if (!isHash(ruleHash) || !isHash(dataHash)) bad('header: no rule or data hash');
  if (!Array.isArray(list) || !list.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && isCount(e[1])))
    bad('header: bad array list');
  let at = nl + 1;
  at += (8 - (at % 8)) % 8;
  const arrays: Record<string, Float64Array> = {};
  for (const [name, length] of list as [string, number][]) {
    if (Object.hasOwn(arrays, name)) bad(`array ${name} twice`);
    if (at + length * 8 > body.length) bad(`truncated array ${name}`);
    const a = new Float64Array(length);
    for (let i = 0; i < length; i++) a[i] = body.readDoubleLE(at + i * 8);
    arrays[name] = a;
    at += length * 8;
  }
  if (at !== body.length) bad('trailing bytes');
  return { step: step as number, n: n as number, config: config as string, ruleHash: ruleHash as string, dataHash: dataHash as string, arrays };
}
