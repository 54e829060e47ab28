/**
 * saturation(change): thumbor (`_saturation.c`, after alienryderflex.com/saturation.html)
 * takes the perceived brightness P = sqrt(0.299 R² + 0.587 G² + 0.114 B²) of each pixel and
 * moves every channel away from it: c' = P + (c - P) * change, in single-precision floats,
 * truncated and clamped. `change` is a **factor**, not a percentage: 1 keeps the picture,
 * 0 makes it grey, 2 doubles the saturation. (thumbor's docs call it "-100 to 100 %", but its
 * code and its own test, `saturation(10)`, use the value as the factor; we follow the code, which
 * is what thumbor's pictures show.)
 *
 * Here: the same formula on the raw pixels (sharp's `modulate({ saturation })` works in LCh
 * and gives visibly different colours). Parity: exact up to float rounding (float32 steps are
 * reproduced with Math.fround).
 */
import { numberArg } from "../common/filter-args.js";
import { clampTrunc, perFrame, withData } from "../common/raw.js";

export const saturation = perFrame((raw, args) => {
  const change = Math.fround(numberArg("saturation", args, 0));
  if (change === 1) return raw;
  const src = raw.data;
  const out = Buffer.from(src);
  const f = Math.fround;
  for (let i = 0; i < src.length; i += raw.channels) {
    const r = src[i],
      g = src[i + 1],
      b = src[i + 2];
    const p = f(Math.sqrt(r * r * 0.299 + g * g * 0.587 + b * b * 0.114));
    out[i] = clampTrunc(f(p + f(f(r - p) * change)));
    out[i + 1] = clampTrunc(f(p + f(f(g - p) * change)));
    out[i + 2] = clampTrunc(f(p + f(f(b - p) * change)));
  }
  return withData(raw, out);
});
