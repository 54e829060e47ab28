/**
 * rotate(degrees): thumbor applies only multiples of 90 (others are silently ignored),
 * normalised with Python's modulo (`-90` → 270), and rotates **counter-clockwise** as PIL's
 * `transpose(ROTATE_90/180/270)` does: rotate(90) turns a W×H image into H×W with the old
 * top-right corner at the top-left.
 *
 * Here: sharp `rotate(360 - ccw)` (sharp turns clockwise) on the materialised image, so an
 * earlier rotation in the pipeline (EXIF orientation) is kept. Parity: exact (pure pixel moves).
 */
import { integerArg } from "../common/filter-args.js";
import { fromRaw, materialise, perFrame } from "../common/raw.js";

/** The counter-clockwise quarter turn thumbor applies (0, 90, 180 or 270), or null when it ignores the angle. */
export function thumborRotation(degrees: number): 0 | 90 | 180 | 270 | null {
  if (degrees % 90 !== 0) return null;
  return (((degrees % 360) + 360) % 360) as 0 | 90 | 180 | 270;
}

export const rotate = perFrame(async (frame, args) => {
  const ccw = thumborRotation(integerArg("rotate", args, 0));
  if (ccw === null || ccw === 0) return frame;
  return materialise(fromRaw(frame).rotate(360 - ccw));
});
