/**
 * round_corner(a[|b], r, g, b[, transparent]): thumbor (`_round_corner.c`) paints the outside of
 * an elliptical quarter (radii a across, b down; each capped at half the image side) in every
 * corner with the colour r,g,b, or makes it fully transparent when `transparent` (the image then
 * gets an alpha channel). Row by row from the corner, the painted run is
 * trunc(a - a·sqrt(b² - y²)/b) pixels long on the left; on the right thumbor paints one pixel
 * fewer (its loop skips column 0 mirrored onto the last column). Then it anti-aliases: along each
 * row, and then along each column, the pixels where the ellipse crosses are blended between the
 * corner colour and the first unpainted pixel's colour (weights 1 - 0.75·i/n for the i-th of n
 * pixels); in transparent mode that blend darkens the colour channels and leaves alpha alone.
 *
 * Here: the same painting and the same blending, in thumbor's order and float32 arithmetic,
 * including its quirks: pixel positions are computed as linear offsets, so a right-hand position
 * one past the last column lands on the first pixel of the next row, as it does in thumbor
 * (positions outside the image, where thumbor's C would write out of bounds, are skipped).
 * Parity: exact as far as these rules go; a radius of 0 changes nothing.
 *
 * Transparent corners on a JPEG: thumbor's Pillow drops the alpha channel when it saves a JPEG,
 * so its corners show the painted colour (and the darkened blend), not a background. Here the
 * same: when the variant is a JPEG, the corners are painted as in transparent mode but no alpha
 * is added (an alpha the image already had is left as it was), so the encoder has nothing to
 * flatten there.
 */
import { RequestError } from "../../core/errors.js";
import { booleanArg, integerArg, stringArg } from "../common/filter-args.js";
import type { RawImage } from "../common/raw.js";
import { perFrame } from "../common/raw.js";
import { formatCan } from "../../core/formats.js";

export interface CornerRun {
  /** Row index in the image. */
  row: number;
  /** Pixels painted from the left edge (columns 0..left-1). */
  left: number;
  /** Pixels painted from the right edge (columns width-right..width-1). */
  right: number;
}

const f = Math.fround;
const AA_AMOUNT = f(0.75);

/** The capped radii thumbor uses (each at most half the side, integer division). */
export function cornerRadii(width: number, height: number, aRadius: number, bRadius: number): { a: number; b: number } {
  return { a: Math.min(aRadius, Math.trunc(width / 2)), b: Math.min(bRadius, Math.trunc(height / 2)) };
}

/** Offset (in float32, as thumbor computes it) of the ellipse edge from its centre on row offset y: ≤ 0. */
function rowEdge(a: number, b: number, y: number): number {
  return f(-(a * Math.sqrt(f(b * b) - y * y)) / b);
}

/** The runs thumbor paints before anti-aliasing, top and bottom, for an image of this size. */
export function cornerRuns(width: number, height: number, aRadius: number, bRadius: number): CornerRun[] {
  const { a, b } = cornerRadii(width, height, aRadius, bRadius);
  const runs: CornerRun[] = [];
  if (a <= 0 || b <= 0) return runs;
  for (let y = 0; y <= b; y++) {
    const end = Math.trunc(f(rowEdge(a, b, y) + a));
    if (end <= 0) continue;
    runs.push({ row: b - y, left: end, right: end - 1 });
    runs.push({ row: height - b + y - 1, left: end, right: end - 1 });
  }
  return runs;
}

/**
 * Paints and anti-aliases the four corners of `raw` in place (3 or 4 channels). `transparent`
 * selects thumbor's transparent-mode blend; `clearAlpha` (needs 4 channels) also sets the
 * painted pixels' alpha to 0.
 */
export function paintRoundCorners(
  raw: RawImage,
  aRadius: number,
  bRadius: number,
  colour: number[],
  transparent: boolean,
  clearAlpha = transparent,
): void {
  // Long on purpose: a faithful port of thumbor's _round_corner.c, kept in its order to be read side by side.
  const { width: W, height: H, channels: n, data } = raw;
  const { a, b } = cornerRadii(W, H, aRadius, bRadius);
  if (a <= 0 || b <= 0) return;
  const pixels = W * H;
  // Linear pixel offsets, as thumbor computes them: column W is the next row's first pixel.
  const at = (row: number, col: number) => row * W + col;
  const inside = (p: number) => p >= 0 && p < pixels;
  const paint = (p: number) => {
    if (!inside(p)) return;
    data[p * n] = colour[0];
    data[p * n + 1] = colour[1];
    data[p * n + 2] = colour[2];
    if (clearAlpha) data[p * n + 3] = 0;
  };
  const blend = (p: number, last: number, aa: number) => {
    if (!inside(p) || !inside(last)) return;
    const keep = f(1 - aa);
    for (let c = 0; c < 3; c++) {
      const v = transparent ? f(data[last * n + c] * keep) : f(f(data[last * n + c] * keep) + f(colour[c] * aa));
      data[p * n + c] = Math.trunc(v);
    }
  };
  const weight = (idx: number, count: number) => f(1 - f(f(idx / count) * AA_AMOUNT));

  // Rows, from the centre line outwards to the top (and bottom) edge: paint the run, then
  // blend the pixels where the ellipse crosses this row.
  for (let y = 0; y <= b; y++) {
    const x = rowEdge(a, b, y);
    const endX = Math.trunc(f(x + a));
    const yTop = b - y;
    const yBottom = H - b + y - 1;
    for (let cx = 0; cx < endX; cx++) {
      paint(at(yTop, cx));
      paint(at(yBottom, cx));
      if (cx > 0) {
        paint(at(yTop, W - cx));
        paint(at(yBottom, W - cx));
      }
    }
    const lastTL = at(yTop, endX),
      lastBL = at(yBottom, endX),
      lastTR = at(yTop, W - endX),
      lastBR = at(yBottom, W - endX);
    let count = 0;
    for (let ax = Math.trunc(f(x - 1)); ax >= -a; ax--) {
      if (Math.trunc(f((b * Math.sqrt(f(a * a) - ax * ax)) / a + 1)) !== y) break;
      count++;
    }
    let ax = Math.trunc(f(x - count));
    if (ax < -a) ax += 1;
    for (let idx = 1; ax < x; ax++, idx++) {
      const col = ax + a;
      const aa = weight(idx, count);
      blend(at(yTop, col), lastTL, aa);
      blend(at(yBottom, col), lastBL, aa);
      blend(at(yTop, W - col), lastTR, aa);
      blend(at(yBottom, W - col), lastBR, aa);
    }
  }

  // Columns, from the centre line outwards to the left (and right) edge.
  for (let x = 0; x >= -a; x = f(x - 1)) {
    const y = f((b * Math.sqrt(f(a * a) - x * x)) / a);
    let count = 0;
    for (let ay = Math.trunc(f(y + 1)); ay < b; ay++) {
      if (Math.trunc(f(-((a * Math.sqrt(f(b * b) - ay * ay)) / b) - 1)) !== Math.trunc(x)) break;
      count++;
    }
    const endX = Math.trunc(f(x + a));
    const yTop = Math.trunc(f(b - y));
    const yBottom = Math.trunc(f(f(f(H - b) + y) - 1));
    const lastTL = at(yTop, endX),
      lastBL = at(yBottom, endX),
      lastTR = at(yTop, W - endX),
      lastBR = at(yBottom, W - endX);
    const leftX = Math.trunc(f(x + a));
    const rightX = Math.trunc(f(f(W - a) - x));
    let ay = Math.trunc(f(y + count));
    if (ay > b) ay -= 1;
    for (let idx = 1; ay > y; ay--, idx++) {
      const aa = weight(idx, count);
      blend(at(b - ay, leftX), lastTL, aa);
      blend(at(H - b + ay - 1, leftX), lastBL, aa);
      blend(at(b - ay, rightX), lastTR, aa);
      blend(at(H - b + ay - 1, rightX), lastBR, aa);
    }
  }
}

function toRgba(raw: RawImage): RawImage {
  if (raw.channels === 4) return { ...raw, data: Buffer.from(raw.data) };
  const out = Buffer.alloc(raw.width * raw.height * 4, 255);
  for (let i = 0, o = 0; i < raw.data.length; i += 3, o += 4) raw.data.copy(out, o, i, i + 3);
  return { data: out, width: raw.width, height: raw.height, channels: 4, frames: raw.frames };
}

export const roundCorner = perFrame((input, args, ctx) => {
  const radii = stringArg("round_corner", args, 0);
  const m = /^(\d+)(?:\|(\d+))?$/.exec(radii);
  if (!m) throw new RequestError(400, "round_corner: the radius must be a number or a|b");
  const aRadius = Number(m[1]);
  const bRadius = m[2] === undefined ? aRadius : Number(m[2]);
  // thumbor stores each colour in an unsigned char.
  const colour = [1, 2, 3].map((i) => integerArg("round_corner", args, i) & 255);
  const transparent = booleanArg("round_corner", args, 4);
  const clearAlpha = transparent && formatCan(ctx.outputFormat, "alpha");
  const raw = clearAlpha ? toRgba(input) : { ...input, data: Buffer.from(input.data) };
  paintRoundCorners(raw, aRadius, bRadius, colour, transparent, clearAlpha);
  return raw;
});
