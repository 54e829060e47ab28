/**
 * Pixel assertions that show the values: a failing check prints the actual and expected pixels
 * and the tolerance, instead of ava's bare "Value is not true".
 */
import type { ExecutionContext } from "ava";

/** Default per-channel tolerance: lossy encoders and resampling move a flat colour by a few tens of levels. */
export const PIXEL_TOLERANCE = 40;

const show = (px: ArrayLike<number>): string => `[${Array.from(px).join(", ")}]`;

/** Null when `actual` is within `tolerance` of `expected` on each channel, else what differs. */
export function pixelMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = PIXEL_TOLERANCE): string | null {
  const off: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const delta = Math.abs(actual[i]! - expected[i]!);
    if (!(delta <= tolerance)) off.push(`channel ${i} off by ${delta}`);
  }
  if (off.length === 0) return null;
  return `pixel ${show(actual)}, expected ${show(expected)} ± ${tolerance} (${off.join(", ")})`;
}

/** Asserts that a pixel is within `tolerance` of `expected` on every channel, printing both when not. */
export function assertPixel(
  t: ExecutionContext,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance = PIXEL_TOLERANCE,
  message?: string,
): boolean {
  const mismatch = pixelMismatch(actual, expected, tolerance);
  if (mismatch === null) {
    t.pass();
    return true;
  }
  t.fail(message === undefined ? mismatch : `${message}: ${mismatch}`);
  return false;
}
