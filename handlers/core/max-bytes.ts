/**
 * max_bytes' quality search, as a pure order of qualities to try: render/fit-bytes.ts encodes at
 * each and reports whether the file fit; core/render-budget.ts replays every outcome to price the
 * worst case. Pure: no sharp.
 *
 * thumbor steps down by ×0.75 to 10, then back up by ×1.1 below the last too-large quality: up
 * to ten encodes, nine of them for a max_bytes no file can meet. Every quality that search can
 * answer with is on one ladder (maxBytesLadder), and as file sizes shrink with the quality it
 * answers the highest one whose file fits (the floor's when none does). This search finds the
 * same answer in fewer encodes: the quality asked for, then thumbor's first step down (where most
 * searches end), then the floor (a file too large even there is the answer: three encodes for
 * max_bytes(1)), then a bisection of the ladder between a quality known too large and one known
 * to fit. At most 8 encodes from quality 100.
 */
import { formatCan, type OutputFormat } from "./formats.js";
import type { FilterCall } from "./plan.js";

/**
 * The limit of a plan's last `max_bytes` call when positive and the output format's quality
 * search applies (as in thumbor: JPEG and WebP), else null: what the render searches for and the
 * budget prices. An open format (null: the original's, before the header) has no search.
 */
export function maxBytesOf(call: FilterCall | undefined, format: OutputFormat | null): number | null {
  const arg = call?.args[0];
  const maxBytes = typeof arg === "number" ? arg : Number(arg ?? 0);
  return Number.isFinite(maxBytes) && maxBytes > 0 && format !== null && formatCan(format, "max-bytes") ? maxBytes : null;
}

/** The lowest quality the search encodes at: a file still too large there is answered as it is. */
export const MAX_BYTES_QUALITY_FLOOR = 10;

/** Every quality thumbor's step-by-step search could answer with from `quality`, highest first (the floor last). */
export function maxBytesLadder(quality: number): number[] {
  if (quality <= MAX_BYTES_QUALITY_FLOOR) return [quality];
  const down = [quality];
  for (let q = quality; q > MAX_BYTES_QUALITY_FLOOR;) down.push((q = Math.max(MAX_BYTES_QUALITY_FLOOR, Math.floor(q * 0.75))));
  const ladder = new Set(down);
  for (let i = 1; i < down.length; i++) {
    for (let up = Math.floor(down[i] * 1.1); up > down[i] && up < down[i - 1]; up = Math.floor(up * 1.1)) ladder.add(up);
  }
  return [...ladder].sort((a, b) => b - a);
}

/** One search: ask `next()` for the quality to encode at, `report()` whether its file fit; undefined when done. */
export interface MaxBytesSearch {
  next(): number | undefined;
  report(fits: boolean): void;
}

export function maxBytesSearch(quality: number): MaxBytesSearch {
  const ladder = maxBytesLadder(quality);
  const floor = ladder.length - 1;
  const firstStep = ladder.indexOf(Math.max(MAX_BYTES_QUALITY_FLOOR, Math.floor(quality * 0.75)));
  // ladder[tooLarge] is known too large, ladder[fits] known to fit (undefined: not yet known).
  let tooLarge = -1;
  let fits: number | undefined;
  let done = false;
  let trying = 0;
  const choose = (): number | undefined => {
    if (done) return undefined;
    if (tooLarge < 0) return 0;
    if (fits === undefined) return tooLarge < firstStep ? firstStep : floor;
    return fits - tooLarge > 1 ? (tooLarge + fits) >> 1 : undefined;
  };
  return {
    next() {
      const at = choose();
      if (at === undefined) return undefined;
      trying = at;
      return ladder[at];
    },
    report(ok) {
      if (ok) fits = trying;
      else tooLarge = trying;
      // Fits at once, or too large even at the floor: that encode is the answer.
      if ((ok && trying === 0) || (!ok && trying === floor)) done = true;
    },
  };
}

/** The qualities of every path the search can take (one per outcome), for the budget's worst case. */
export function maxBytesPaths(quality: number): number[][] {
  const ladder = maxBytesLadder(quality);
  // Outcome k: the file fits from ladder[k] down (k = ladder.length: nowhere).
  return Array.from({ length: ladder.length + 1 }, (_, k) => {
    const search = maxBytesSearch(quality);
    const path: number[] = [];
    for (let q = search.next(); q !== undefined; q = search.next()) {
      path.push(q);
      search.report(ladder.indexOf(q) >= k);
    }
    return path;
  });
}
