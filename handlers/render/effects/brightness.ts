/**
 * brightness(amount): thumbor (`_brightness.c`) adds trunc(255 * amount / 100) to R, G and B
 * and clamps to 0..255; alpha is untouched.
 *
 * Here: sharp `linear(1, delta)` on the colour channels with the same integer delta.
 * Parity: exact (an integer offset needs no rounding).
 */
import { integerArg } from "../common/filter-args.js";
import { fromRaw, materialise, perFrame } from "../common/raw.js";

export const brightness = perFrame(async (frame, args) => {
  const amount = integerArg("brightness", args, 0);
  const delta = Math.trunc((255 * amount) / 100);
  if (delta === 0) return frame;
  return materialise(fromRaw(frame).linear([1, 1, 1], [delta, delta, delta]));
});
