/**
 * Colours named by filter arguments (fill, background_color) and thumbor's automatic colour.
 */
import sharp from "sharp";
import { RequestError } from "../../core/errors.js";
import type { FilterArg } from "../../core/plan.js";
import type { RawImage } from "../common/raw.js";

/** A colour argument: a CSS name or hex without "#" (thumbor's spelling), as sharp takes it. */
export function parseColour(arg: FilterArg | undefined): string {
  const text = String(arg ?? "")
    .trim()
    .toLowerCase();
  if (/^[0-9a-f]{3}$|^[0-9a-f]{6}$/.test(text)) return `#${text}`;
  if (/^[a-z]+$/.test(text)) return text;
  throw new RequestError(400, `not a colour: ${String(arg)}`);
}

/** The R, G, B bytes of a colour spelled as parseColour returns it (sharp's own colour parser). */
export async function colourBytes(colour: string): Promise<[number, number, number]> {
  const px = await sharp({ create: { width: 1, height: 1, channels: 3, background: colour } })
    .raw()
    .toBuffer();
  return [px[0]!, px[1]!, px[2]!];
}

/**
 * thumbor's automatic colour (`fill(auto)`): `_fill.apply`, which thumbor calls
 * get_median_color but which is the mean: the sum of each of R, G and B over every pixel of the
 * image as it is when the filter runs (after the resize), transparent pixels included, divided
 * by the pixel count with integer division. Grey images count their one channel (thumbor converts
 * L to RGB first). Animated images: the first frame.
 */
export function meanColour(raw: RawImage): string {
  const n = raw.width * raw.height;
  const grey = raw.channels <= 2;
  const sums = [0, 0, 0];
  for (let i = 0, p = 0; p < n; i += raw.channels, p++) {
    for (let c = 0; c < (grey ? 1 : 3); c++) sums[c]! += raw.data[i + c]!;
  }
  const mean = sums.map((s) => Math.floor(s / n));
  const rgb = grey ? [mean[0]!, mean[0]!, mean[0]!] : mean;
  return `#${rgb.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}
