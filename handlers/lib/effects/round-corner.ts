/**
 * round_corner(a[|b], r, g, b[, transparent]): thumbor (`_round_corner.c`) paints the outside of
 * an elliptical quarter (radii a across, b down; each capped at half the image side) in every
 * corner with the colour r,g,b, or makes it fully transparent when `transparent` (the image then
 * gets an alpha channel). Row by row from the corner, the painted run is
 * trunc(a - a·sqrt(b² - y²)/b) pixels long on the left; on the right thumbor paints one pixel
 * fewer (its loop skips column 0 mirrored onto the last column), and so do we.
 *
 * Here: the same rows painted on the raw pixels. Difference: thumbor then blends a few pixels
 * past the end of each run 25–100 % toward the corner colour (its own anti-aliasing, which also
 * darkens them in transparent mode); that pass is not reproduced, so the curve is hard-edged
 * here: at most a one-to-two pixel band along each arc differs.
 */
import { RequestError } from "../errors.js";
import { booleanArg, integerArg, stringArg } from "./args.js";
import type { RawImage } from "./raw.js";
import { perFrame } from "./raw.js";

export interface CornerRun {
  /** Row index in the image. */
  row: number;
  /** Pixels painted from the left edge (columns 0..left-1). */
  left: number;
  /** Pixels painted from the right edge (columns width-right..width-1). */
  right: number;
}

/** The runs thumbor paints, top and bottom, for an image of this size. */
export function cornerRuns(width: number, height: number, aRadius: number, bRadius: number): CornerRun[] {
  const a = Math.min(aRadius, Math.trunc(width / 2));
  const b = Math.min(bRadius, Math.trunc(height / 2));
  const runs: CornerRun[] = [];
  if (a <= 0 || b <= 0) return runs;
  for (let y = 0; y <= b; y++) {
    const x = Math.fround(-(a * Math.sqrt(b * b - y * y)) / b);
    const end = Math.trunc(Math.fround(x + a));
    if (end <= 0) continue;
    runs.push({ row: b - y, left: end, right: end - 1 });
    runs.push({ row: height - b + y - 1, left: end, right: end - 1 });
  }
  return runs;
}

function toRgba(raw: RawImage): RawImage {
  if (raw.channels === 4) return { ...raw, data: Buffer.from(raw.data) };
  const out = Buffer.alloc(raw.width * raw.height * 4, 255);
  for (let i = 0, o = 0; i < raw.data.length; i += 3, o += 4) raw.data.copy(out, o, i, i + 3);
  return { data: out, width: raw.width, height: raw.height, channels: 4, frames: raw.frames };
}

export const roundCorner = perFrame((input, args) => {
  const radii = stringArg("round_corner", args, 0);
  const m = /^(\d+)(?:\|(\d+))?$/.exec(radii);
  if (!m) throw new RequestError(400, "round_corner: the radius must be a number or a|b");
  const aRadius = Number(m[1]);
  const bRadius = m[2] === undefined ? aRadius : Number(m[2]);
  // thumbor stores each colour in an unsigned char.
  const colour = [1, 2, 3].map((i) => integerArg("round_corner", args, i) & 255);
  const transparent = booleanArg("round_corner", args, 4, false);

  const raw = transparent ? toRgba(input) : { ...input, data: Buffer.from(input.data) };
  const { width, channels, data } = raw;
  const paint = (row: number, col: number) => {
    const i = (row * width + col) * channels;
    data[i] = colour[0];
    data[i + 1] = colour[1];
    data[i + 2] = colour[2];
    if (transparent) data[i + 3] = 0;
  };
  for (const run of cornerRuns(raw.width, raw.height, aRadius, bRadius)) {
    for (let col = 0; col < run.left; col++) paint(run.row, col);
    for (let col = width - run.right; col < width; col++) paint(run.row, col);
  }
  return raw;
});
