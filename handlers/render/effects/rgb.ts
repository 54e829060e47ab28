/**
 * rgb(r, g, b): thumbor (`_rgb.c`) adds trunc(255 * pct / 100) to each channel separately and
 * clamps to 0..255.
 *
 * Here: sharp `linear([1, 1, 1], [dr, dg, db])` on the colour channels.
 * Parity: exact for opaque images. Difference: thumbor's loop steps 3 bytes per pixel even on
 * RGBA data, so on images with an alpha channel it shifts the wrong bytes (a visible bug);
 * here the colour channels are shifted and alpha is left alone.
 */
import { integerArg } from "../common/filter-args.js";
import { fromRaw, materialise, perFrame } from "../common/raw.js";

export const rgb = perFrame(async (frame, args) => {
  const deltas = [0, 1, 2].map((i) => Math.trunc((255 * integerArg("rgb", args, i)) / 100));
  if (deltas.every((d) => d === 0)) return frame;
  return materialise(fromRaw(frame).linear([1, 1, 1], deltas));
});
