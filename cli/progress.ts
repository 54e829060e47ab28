/**
 * A one-line progress bar on a terminal: bytes read of the file's size. Drawn only on a TTY (a
 * redirected stderr must not fill up with carriage returns) and redrawn at most a few times per
 * second, so that it costs nothing next to the reading itself.
 */

/** Inputs smaller than this finish too fast for a bar to be worth drawing. */
export const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;
const REDRAW_EVERY_MS = 100;
const BAR_WIDTH = 30;

export interface ProgressBar {
  update(bytes: number): void;
  done(): void;
}

export interface ProgressTarget {
  isTTY?: boolean;
  write(text: string): unknown;
}

const NO_PROGRESS: ProgressBar = { update() {}, done() {} };

/** What the bar counts: the smallest total worth a bar, and how one state is drawn. */
export interface ProgressUnit {
  minTotal: number;
  render(done: number, total: number): string;
}

export const BYTES: ProgressUnit = { minTotal: PROGRESS_MIN_BYTES, render: (done, total) => renderProgress(done, total) };

/** A bar on `out` for `total` bytes (or another unit), or one that draws nothing when it would not help. */
export function createProgressBar(
  out: ProgressTarget,
  total: number,
  now: () => number = Date.now,
  unit: ProgressUnit = BYTES,
): ProgressBar {
  if (!out.isTTY || total < unit.minTotal) return NO_PROGRESS;
  let last = -Infinity;
  let drawn = false;
  return {
    update(bytes) {
      const t = now();
      if (t - last < REDRAW_EVERY_MS) return;
      last = t;
      drawn = true;
      out.write(`\r${unit.render(bytes, total)}`);
    },
    done() {
      if (drawn) out.write(`\r${" ".repeat(unit.render(total, total).length)}\r`);
    },
  };
}

/** `[#######.......]  47%  1.2 GB / 2.6 GB` */
export function renderProgress(bytes: number, total: number): string {
  return `${renderBar(bytes, total)}  ${humanBytes(bytes)} / ${humanBytes(total)}`;
}

/** `[#######.......]  47%` */
export function renderBar(done: number, total: number): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${percent}`;
}

export function humanBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
