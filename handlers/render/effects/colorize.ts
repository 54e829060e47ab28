/**
 * colorize(red_pct, green_pct, blue_pct, fill): thumbor (`_colorize.c`) blends every channel
 * toward the fill colour: c' = (c * (100 - pct) + fill * pct) / 100, computed in floating point,
 * truncated and clamped. `fill` is a hex colour `rrggbb` (no `#`).
 *
 * Here: sharp `linear((100 - pct) / 100, fill * pct / 100)` per colour channel.
 * Parity: exact in the tests (sharp's cast to 8 bits floors, as thumbor's truncation does for
 * these non-negative values); float rounding could move a value on an exact integer by 1 level.
 */
import { RequestError } from "../../core/errors.js";
import { integerArg, stringArg } from "../common/filter-args.js";
import { fromRaw, materialise, perFrame } from "../common/raw.js";

export const colorize = perFrame(async (frame, args) => {
  const pcts = [0, 1, 2].map((i) => integerArg("colorize", args, i));
  const hex = stringArg("colorize", args, 3);
  if (!/^[0-9a-fA-F]{6}$/.test(hex)) throw new RequestError(400, "colorize: the fill colour must be 6 hex digits (rrggbb)");
  const fill = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const a = pcts.map((p) => (100 - p) / 100);
  const b = pcts.map((p, i) => (fill[i] * p) / 100);
  return materialise(fromRaw(frame).linear(a, b));
});
