/**
 * Enlargements resampled as thumbor's PIL engine does: `Image.resize(size, LANCZOS)`.
 *
 * sharp (libvips) enlarges with one interpolator whatever `kernel` says (the kernel only shapes
 * reductions), so an enlarged picture with hard edges (a logo with alpha) came out visibly
 * different from thumbor's. This is Pillow's separable resampler (`libImaging/Resample.c`), as
 * it computes it for 8-bit images:
 * - per output pixel: centre = (x + 0.5)·scale, support = 3·max(scale, 1), taps from
 *   trunc(centre - support + 0.5) to trunc(centre + support + 0.5) (clamped to the image), weight
 *   lanczos3((tap - centre + 0.5) / max(scale, 1)), normalised to sum 1;
 * - weights in fixed point (22 fractional bits, rounded half away from zero), sums started at
 *   half a unit, shifted back and clamped to 0..255;
 * - horizontal pass first (rows the vertical pass reads only), 8-bit in between, then vertical;
 * - RGBA and LA are premultiplied first and divided back after (Pillow's Image.resize converts to
 *   "RGBa"/"La": c·a/255 rounded as MULDIV255, back with trunc(255·c/a)).
 * Output sides are bounded by maxWidth/maxHeight (transform.ts refuses larger targets first).
 */
import type { RawImage } from "./common/raw.js";

const SUPPORT = 3;
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function lanczos3(x: number): number {
  return x >= -SUPPORT && x < SUPPORT ? sinc(x) * sinc(x / SUPPORT) : 0;
}

/** One axis' taps: for each output index, the first input index and its fixed-point weights. */
interface Taps {
  first: Int32Array;
  weights: Int32Array[];
}

function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = SUPPORT * filterScale;
  const first = new Int32Array(outSize);
  const weights: Int32Array[] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const centre = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(centre - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(centre + support + 0.5), inSize);
    const k: number[] = [];
    for (let x = xmin; x < xmax; x++) k.push(lanczos3((x - centre + 0.5) / filterScale));
    const sum = k.reduce((a, b) => a + b, 0);
    first[xx] = xmin;
    weights.push(Int32Array.from(k, (w) => fixedPoint(sum !== 0 ? w / sum : w)));
  }
  return { first, weights };
}

/** Pillow's normalize_coeffs_8bpc: rounded half away from zero. */
function fixedPoint(w: number): number {
  return Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
}

function clip8(sum: number): number {
  const v = Math.floor(sum / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Resamples rows [rowFrom, rowTo) of `src` (width×?, `channels`) to `outWidth` columns. */
function horizontal(
  src: Uint8Array,
  width: number,
  channels: number,
  rowFrom: number,
  rowTo: number,
  t: Taps,
  outWidth: number,
): Uint8Array {
  const out = new Uint8Array(outWidth * (rowTo - rowFrom) * channels);
  for (let y = rowFrom, o = 0; y < rowTo; y++) {
    const row = y * width * channels;
    for (let xx = 0; xx < outWidth; xx++) {
      const k = t.weights[xx]!;
      const base = row + t.first[xx]! * channels;
      for (let c = 0; c < channels; c++) {
        let sum = HALF;
        for (let i = 0; i < k.length; i++) sum += src[base + i * channels + c]! * k[i]!;
        out[o++] = clip8(sum);
      }
    }
  }
  return out;
}

/** Resamples the columns of `src` (width × rows, first row = source row `rowOffset`) to `outHeight` rows. */
function vertical(src: Uint8Array, width: number, channels: number, rowOffset: number, t: Taps, outHeight: number): Uint8Array {
  const stride = width * channels;
  const out = new Uint8Array(stride * outHeight);
  for (let yy = 0, o = 0; yy < outHeight; yy++) {
    const k = t.weights[yy]!;
    const base = (t.first[yy]! - rowOffset) * stride;
    for (let x = 0; x < stride; x++) {
      let sum = HALF;
      for (let i = 0; i < k.length; i++) sum += src[base + i * stride + x]! * k[i]!;
      out[o++] = clip8(sum);
    }
  }
  return out;
}

/** Pillow's RGBA → RGBa (and LA → La): colour × alpha / 255, rounded as MULDIV255. */
function premultiply(data: Uint8Array, channels: number): Uint8Array {
  const out = new Uint8Array(data);
  const a = channels - 1;
  for (let i = 0; i < out.length; i += channels) {
    const alpha = out[i + a]!;
    for (let c = 0; c < a; c++) {
      const tmp = out[i + c]! * alpha + 128;
      out[i + c] = ((tmp >> 8) + tmp) >> 8;
    }
  }
  return out;
}

/** Pillow's RGBa → RGBA (and La → LA): trunc(255 · colour / alpha), clamped; alpha 0 and 255 as they are. */
function unpremultiply(data: Uint8Array, channels: number): void {
  const a = channels - 1;
  for (let i = 0; i < data.length; i += channels) {
    const alpha = data[i + a]!;
    if (alpha === 0 || alpha === 255) continue;
    for (let c = 0; c < a; c++) data[i + c] = Math.min(255, Math.trunc((255 * data[i + c]!) / alpha));
  }
}

/** Pillow's `Image.resize((width, height), LANCZOS)` of one frame. */
export function pillowLanczosResize(raw: RawImage, width: number, height: number): RawImage {
  if (raw.frames !== 1) throw new Error("pillowLanczosResize: one frame at a time");
  // Image.resize returns a copy for the same size (no premultiplied round trip).
  if (width === raw.width && height === raw.height) return { ...raw, data: Buffer.from(raw.data) };
  const { channels } = raw;
  const alpha = channels === 2 || channels === 4;
  let data: Uint8Array = alpha ? premultiply(raw.data, channels) : raw.data;
  let w = raw.width;
  const vTaps = taps(raw.height, height);
  const rowFrom = vTaps.first[0]!;
  const rowTo = vTaps.first[height - 1]! + vTaps.weights[height - 1]!.length;
  let rowOffset = 0;
  if (width !== raw.width) {
    data = horizontal(data, w, channels, rowFrom, rowTo, taps(w, width), width);
    w = width;
    rowOffset = rowFrom;
  }
  // Without a vertical pass every row was resampled (the identity's taps span the whole height).
  if (height !== raw.height) data = vertical(data, w, channels, rowOffset, vTaps, height);
  const out = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (alpha) unpremultiply(out, channels);
  return { ...raw, data: out, width, height };
}
