/**
 * A one-line progress bar for long numeric runs, redrawn in place with a carriage return.
 * Only on a terminal: when the stream is not a TTY (a pipe, a file, CI) it writes nothing.
 */

export interface ProgressBar {
  /** Redraws the bar at done/total with a label (the current problem). */
  update(done: number, total: number, label?: string): void;
  /** Clears the line (the table that follows starts at column 0). */
  done(): void;
}

const WIDTH = 30;

export function progressBar(stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (!stream.isTTY) return { update() {}, done() {} };
  let last = '';
  let drawn = false;
  return {
    update(done, total, label = '') {
      const f = total > 0 ? Math.min(1, done / total) : 1;
      const filled = Math.round(f * WIDTH);
      const line = `${label ? `${label} ` : ''}[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${Math.floor(f * 100)}%`;
      if (line === last) return; // redraw only when the bar changes
      last = line;
      drawn = true;
      stream.write(`\r${line}\u001b[K`);
    },
    done() {
      if (drawn) stream.write('\r\u001b[K');
      drawn = false;
      last = '';
    },
  };
}
