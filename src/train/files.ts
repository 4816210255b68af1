/**
 * How a run writes its files. Every whole file (checkpoint, rewritten log, result) goes to
 * a temporary file that is synced and then renamed over the old one, so a kill or a full
 * disk leaves either the old file or the new one, never a truncated one. The log is
 * appended line by line and synced before each checkpoint, so that a checkpoint on disk
 * never refers to log lines that are not.
 *
 * The three primitive operations are injectable (FileOps): tests make them fail the way a
 * full disk or a kill would.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { onFile } from './errors.js';

export interface FileOps {
  /** Writes all of `data` to the open file (or throws, possibly after writing part of it). */
  write(fd: number, data: Uint8Array): void;
  fsync(fd: number): void;
  rename(from: string, to: string): void;
}

export const NODE_FILE_OPS: FileOps = {
  write(fd, data) {
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at);
  },
  fsync: fsyncSync,
  rename: renameSync,
};

const bytesOf = (data: string | Uint8Array) => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data);

/** Replaces `file` by `data` atomically: temporary file, fsync, rename (and fsync of the directory). */
export function writeFileAtomic(file: string, data: string | Uint8Array, ops: FileOps = NODE_FILE_OPS): void {
  const tmp = `${file}.tmp`;
  onFile(file, () => {
    try {
      const fd = openSync(tmp, 'w');
      try {
        ops.write(fd, bytesOf(data));
        ops.fsync(fd);
      } finally {
        closeSync(fd);
      }
      ops.rename(tmp, file);
    } catch (e) {
      // a half-written temporary file only takes space (the old file is intact)
      try { unlinkSync(tmp); } catch { /* already gone */ }
      throw e;
    }
  });
  syncDirectory(dirname(file));
}

/** Makes a rename durable. Best effort: some file systems cannot sync a directory, and nothing is lost then but durability on power loss. */
function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* see above */ }
}

/** A log opened for appending whole lines. */
export class AppendFile {
  private readonly fd: number;
  constructor(readonly file: string, private readonly ops: FileOps = NODE_FILE_OPS) {
    this.fd = onFile(file, () => openSync(file, 'a'));
  }
  append(text: string): void {
    onFile(this.file, () => this.ops.write(this.fd, bytesOf(text)));
  }
  sync(): void {
    onFile(this.file, () => this.ops.fsync(this.fd));
  }
  /** Closes the file; errors are ignored, since whatever must be on disk was synced before. */
  close(): void {
    try { closeSync(this.fd); } catch { /* see above */ }
  }
}
