import { pyRound } from "../../core/python.js";

/**
 * thumbor's watermark `detect_and_get_ratio_position`: "Np" is N percent of the side,
 * `round(length * N / 100 + 1e-5)` with the sign kept ("-0p" stays "-0": from the right edge);
 * anything else is returned unchanged. The result is a thumbor position string.
 */
export function resolveWatermarkPosition(pos: string, length: number): string {
  const m = /^(-?)([0-9]+)p$/.exec(pos);
  if (m === null) return pos;
  return `${m[1]}${pyRound((length * Number(m[2])) / 100 + 1e-5)}`;
}
