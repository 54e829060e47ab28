/**
 * watermark(url, x, y, alpha[, w_ratio[, h_ratio]]): thumbor (`filters/watermark.py`) loads the
 * image `url` through its loader, lowers its alpha by trunc(255·alpha/100) (0 = as it is,
 * 100 = invisible; `_alpha.c` subtracts, it does not scale), optionally resizes it to fit
 * within w_ratio % × h_ratio % of the image (Python rounding), and pastes it with "over"
 * compositing (`_composite.c`) at:
 * - x/y ≥ 0: that offset from the left/top; negative (including "-0"): from the right/bottom,
 *   i.e. (W - w) + x; `Np`: N % of the side, round(len·N/100 + 1e-5), sign kept;
 * - `center`: trunc((W - w) / 2);
 * - `repeat`: tiles across the side, divmod(W, w) tiles spaced evenly (10 px apart when fewer
 *   than two fit); both axes repeating with more than 100 tiles are limited to 6×6.
 * A watermark that cannot be loaded is a 400.
 *
 * Here: the same sizes and positions; the watermark is read with ctx.loadObject from the
 * originals' bucket under the key its url maps to (the same mapping as the image itself:
 * thumbor.stripHosts and thumbor.pathPrefix, after one more percent-decoding, as thumbor-aws's
 * loader unquotes the url it gets), lowered in alpha on its raw pixels, resized with sharp
 * (Lanczos 3, as PIL's ANTIALIAS), then composited "over" with sharp. Parity: positions and
 * sizes exact; pixels within one level of a straight-alpha "over" in the tests (rounding in the
 * compositing maths); a resized watermark can differ a little more along its edges (sharp's and
 * PIL's Lanczos filters are not the same code).
 */
import { RequestError } from "../../core/errors.js";
import { resolveWatermarkPosition } from "./watermark-position.js";
import type { FilterArg } from "../../core/plan.js";
import type { PostFilterEffect } from "./index.js";
import { pyRound } from "../../core/python.js";
import { argOrDefault, integerArg, stringArg } from "../common/filter-args.js";
import { checkDeadline } from "../deadline.js";
import { loadBucketImage } from "./bucket-image.js";
import type { RawImage } from "../common/raw.js";
import { fromRaw, joinFrames, materialise, splitFrames } from "../common/raw.js";

export interface Size {
  width: number;
  height: number;
}

export interface Point {
  left: number;
  top: number;
}

/** thumbor's `calc_watermark_size`: fit the watermark within wRatio·W × hRatio·H (fractions; null = not given). */
export function watermarkSize(image: Size, mark: Size, wRatio: number | null, hRatio: number | null): Size {
  if (!wRatio && !hRatio) return mark;
  let maxW = wRatio ? image.width * wRatio : 0;
  let maxH = hRatio ? image.height * hRatio : 0;
  if (!maxW) maxW = (mark.width * maxH) / mark.height;
  if (!maxH) maxH = (mark.height * maxW) / mark.width;
  if (mark.width / maxW >= mark.height / maxH) {
    return { width: pyRound(maxW), height: pyRound((mark.height * maxW) / mark.width) };
  }
  return { width: pyRound((mark.width * maxH) / mark.height), height: pyRound(maxH) };
}

interface AxisPlan {
  repeat: boolean;
  /** Single position when not repeating. */
  at: number;
  /** Tiles and leftover pixels when repeating (thumbor's divmod pair). */
  count: number;
  rest: number;
}

function axisPlan(spec: string, length: number, markLength: number): AxisPlan {
  const pos = resolveWatermarkPosition(spec, length);
  if (pos === "repeat") {
    if (length / markLength < 2) return { repeat: true, at: 0, count: Math.ceil(length / markLength), rest: 10 };
    return { repeat: true, at: 0, count: Math.floor(length / markLength), rest: length % markLength };
  }
  if (pos === "center") return { repeat: false, at: Math.trunc((length - markLength) / 2), count: 1, rest: 0 };
  const offset = Number.parseInt(pos, 10);
  if (!Number.isFinite(offset)) throw new RequestError(400, `watermark: position "${spec}" is not a number, Np, center or repeat`);
  const fromFarEdge = pos.startsWith("-");
  return { repeat: false, at: fromFarEdge ? Math.trunc(length - markLength + offset) : offset, count: 1, rest: 0 };
}

/** Top-left corners where thumbor pastes the watermark (x, y as in the URL: pixels, -pixels, Np, center, repeat). */
export function watermarkPositions(image: Size, mark: Size, x: string, y: string): Point[] {
  const px = axisPlan(x, image.width, mark.width);
  const py = axisPlan(y, image.height, mark.height);
  if (!px.repeat && !py.repeat) return [{ left: px.at, top: py.at }];
  if (px.repeat && py.repeat && px.count * py.count > 100) {
    const cx = Math.min(6, px.count),
      cy = Math.min(6, py.count);
    px.count = cx;
    px.rest = image.width - cx * mark.width;
    py.count = cy;
    py.rest = image.height - cy * mark.height;
  }
  const spacing = (a: AxisPlan) => Math.floor(a.rest / (Math.max(a.count, 2) - 1));
  const xs = px.repeat ? Array.from({ length: px.count }, (_, i) => i * spacing(px) + i * mark.width) : [px.at];
  const ys = py.repeat ? Array.from({ length: py.count }, (_, j) => j * spacing(py) + j * mark.height) : [py.at];
  return xs.flatMap((left) => ys.map((top) => ({ left, top })));
}

/** thumbor's w_ratio/h_ratio: a percentage, or "none" (the registry's default) / 0 (no limit). */
function ratioArg(args: FilterArg[], index: number): number | null {
  const v = argOrDefault("watermark", args, index);
  if (v === "none" || v === "" || v === false) return null;
  const n = integerArg("watermark", args, index);
  if (n < 0) throw new RequestError(400, `watermark: argument ${index + 1} (size ratio) must not be negative`);
  return n === 0 ? null : n / 100;
}

/** Lowers every alpha by trunc(255·alpha/100), clamped at 0 (thumbor's `_alpha.c`). */
function lowerAlpha(mark: RawImage, alpha: number): RawImage {
  const delta = Math.trunc((255 * alpha) / 100);
  const data = Buffer.from(mark.data);
  for (let i = 3; i < data.length; i += 4) data[i] = Math.max(0, data[i] - delta);
  return { ...mark, data };
}

/** One transparent canvas of the frame's size holding every (clipped) tile: thumbor's tiles never overlap. */
export function overlayCanvas(size: Size, mark: RawImage, positions: Point[]): Buffer {
  const canvas = Buffer.alloc(size.width * size.height * 4);
  for (const { left, top } of positions) {
    const x0 = Math.max(0, left),
      y0 = Math.max(0, top);
    const x1 = Math.min(size.width, left + mark.width),
      y1 = Math.min(size.height, top + mark.height);
    if (x1 <= x0 || y1 <= y0) continue;
    for (let y = y0; y < y1; y++) {
      const from = ((y - top) * mark.width + (x0 - left)) * 4;
      mark.data.copy(canvas, (y * size.width + x0) * 4, from, from + (x1 - x0) * 4);
    }
  }
  return canvas;
}

/** Composites a frame-sized RGBA canvas "over" the frame with sharp; an opaque RGB frame stays RGB. */
export async function compositeOver(frame: RawImage, canvas: Buffer): Promise<RawImage> {
  const out = await materialise(
    fromRaw(frame).composite([
      { input: canvas, raw: { width: frame.width, height: frame.height, channels: 4 }, left: 0, top: 0, blend: "over" },
    ]),
  );
  if (frame.channels === 4 || out.channels === 3) return out;
  // An opaque image stays opaque: keep it RGB.
  const rgb = Buffer.alloc(frame.width * frame.height * 3);
  for (let i = 0, o = 0; i < out.data.length; i += 4, o += 3) out.data.copy(rgb, o, i, i + 3);
  return { ...out, data: rgb, channels: 3 };
}

export const watermark: PostFilterEffect = async (image, args, ctx) => {
  const url = stringArg("watermark", args, 0);
  const x = stringArg("watermark", args, 1);
  const y = stringArg("watermark", args, 2);
  const alpha = integerArg("watermark", args, 3);
  const wRatio = ratioArg(args, 4);
  const hRatio = ratioArg(args, 5);

  let mark = lowerAlpha(await loadBucketImage("watermark", "watermark image", url, ctx), alpha);
  const raw = await materialise(image);
  const size = { width: raw.width, height: raw.height };
  const fitted = watermarkSize(size, mark, wRatio, hRatio);
  const target = { width: Math.max(1, fitted.width), height: Math.max(1, fitted.height) };
  if (target.width !== mark.width || target.height !== mark.height) {
    mark = await materialise(fromRaw(mark).resize(target.width, target.height, { fit: "fill", kernel: "lanczos3" }));
  }
  const canvas = overlayCanvas(size, mark, watermarkPositions(size, mark, x, y));
  const frames: RawImage[] = [];
  for (const frame of splitFrames(raw)) {
    checkDeadline(ctx.deadline);
    frames.push(await compositeOver(frame, canvas));
  }
  return fromRaw(joinFrames(frames));
};
