/**
 * IDX files (the MNIST / Fashion-MNIST format), plain or gzipped: a big-endian header
 * (two zero bytes, a type byte, the number of dimensions, then one u32 per dimension) and
 * the data. Only unsigned bytes (type 0x08) are read: images and labels both use it.
 * Every malformed file is a `DataError` naming the file and what is wrong with it.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** A user-facing data problem: one line, naming the file. */
export class DataError extends Error {}

export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

/** Reads an IDX file; gzip is recognised by its magic bytes, not by the file name. */
export function readIdx(file: string): IdxArray {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new DataError(`cannot read ${file}: ${why}`);
  }
  let bytes: Uint8Array = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = gunzipSync(raw);
    } catch (e) {
      throw new DataError(`${file}: not a valid gzip file (${(e as Error).message})`);
    }
  }
  return parseIdx(bytes, file);
}

/** Parses the bytes of an (uncompressed) IDX file; `file` names it in errors. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length < 4) throw new DataError(`${file}: truncated IDX header (${bytes.length} bytes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0)
    throw new DataError(`${file}: bad magic number: an IDX file starts with two zero bytes, got 0x${hex(bytes[0]!)}${hex(bytes[1]!)}`);
  if (bytes[2] !== UNSIGNED_BYTE) throw new DataError(`${file}: unsupported IDX data type 0x${hex(bytes[2]!)} (only unsigned bytes, 0x08, are read)`);
  const rank = bytes[3]!;
  if (rank < 1) throw new DataError(`${file}: IDX header declares no dimensions`);
  const start = 4 + 4 * rank;
  if (bytes.length < start) throw new DataError(`${file}: truncated IDX header (${rank} dimensions need ${start} bytes, the file has ${bytes.length})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  const have = bytes.length - start;
  if (have < size) throw new DataError(`${file}: truncated: the header (${dims.join('×')}) needs ${size} data bytes, the file has ${have}`);
  if (have > size) throw new DataError(`${file}: ${have - size} bytes after the data declared by the header (${dims.join('×')})`);
  return { dims, data: bytes.subarray(start, start + size) };
}

/** Writes an uncompressed IDX file of unsigned bytes (used by tests and examples). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = UNSIGNED_BYTE;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const hex = (b: number) => b.toString(16).padStart(2, '0');
