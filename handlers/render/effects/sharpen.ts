/**
 * sharpen(amount, radius, luminance_only): thumbor (`_sharpen.c`, `lib/wavelet_sharpen.c`,
 * after Marco Rossini's GIMP "wavelet sharpen") splits each channel (or only the luma Y of
 * YCbCr when luminance_only) into 5 wavelet detail layers with the à trous "hat" filter
 * [1 2 1]/4 (spacing 1, 2, 4, 8, 16; edges mirrored) and multiplies layer n by
 * 1 + amount·exp(-(n - radius)² / 1.5) before adding the layers back up.
 *
 * Here: the same decomposition on the raw pixels in single-precision floats (sharp's `sharpen`
 * is an unsharp mask on LAB lightness with a different response, so it cannot stand in).
 * Parity: exact up to float rounding. All three arguments are required, as in thumbor.
 */
import { booleanArg, numberArg } from "../common/filter-args.js";
import { clampTrunc, perFrame, withData } from "../common/raw.js";

const LEVELS = 5;

/** Mirrors an index into 0..size-1 without repeating the edge sample (…2 1 0 1 2…). */
function mirror(i: number, size: number): number {
  if (size === 1) return 0;
  const period = 2 * (size - 1);
  let m = Math.abs(i) % period;
  if (m >= size) m = period - m;
  return m;
}

/** One hat-filter pass along a line (`count` samples `stride` apart from `start`), written to `out` the same way. */
function hatPass(
  src: Float32Array,
  out: Float32Array,
  start: number,
  stride: number,
  count: number,
  spacing: number,
  line: Float32Array,
): void {
  for (let i = 0; i < count; i++) {
    line[i] =
      2 * src[start + stride * i] + src[start + stride * mirror(i - spacing, count)] + src[start + stride * mirror(i + spacing, count)];
  }
  for (let i = 0; i < count; i++) out[start + stride * i] = line[i] * 0.25;
}

/** Sharpens one channel (values 0..1) in place. */
export function waveletSharpen(channel: Float32Array, width: number, height: number, amount: number, radius: number): void {
  const size = width * height;
  const buffers = [channel, new Float32Array(size), new Float32Array(size)];
  const line = new Float32Array(Math.max(width, height));
  let high = 0;
  let low = 1;
  for (let level = 0; level < LEVELS; level++) {
    low = (level & 1) + 1;
    const spacing = 1 << level;
    const src = buffers[high],
      dst = buffers[low];
    for (let row = 0; row < height; row++) hatPass(src, dst, row * width, 1, width, spacing, line);
    for (let col = 0; col < width; col++) hatPass(dst, dst, col, width, height, spacing, line);
    const gain = Math.fround(amount * Math.exp(-((level - radius) * (level - radius)) / 1.5) + 1);
    for (let i = 0; i < size; i++) {
      src[i] = (src[i] - dst[i]) * gain;
      if (high !== 0) channel[i] += src[i];
    }
    high = low;
  }
  const residual = buffers[low];
  for (let i = 0; i < size; i++) channel[i] += residual[i];
}

export const sharpen = perFrame((raw, args) => {
  const amount = numberArg("sharpen", args, 0);
  const radius = numberArg("sharpen", args, 1);
  const luminanceOnly = booleanArg("sharpen", args, 2);
  const { width, height, channels } = raw;
  const size = width * height;
  const planes = [new Float32Array(size), new Float32Array(size), new Float32Array(size)];
  const f = Math.fround;
  for (let i = 0, p = 0; p < size; i += channels, p++) {
    let c0 = raw.data[i],
      c1 = raw.data[i + 1],
      c2 = raw.data[i + 2];
    if (luminanceOnly) {
      const y = f(0.299 * c0 + 0.587 * c1 + 0.114 * c2);
      const cb = f(-0.1687 * c0 - 0.3313 * c1 + 0.5 * c2 + 128);
      const cr = f(0.5 * c0 - 0.4187 * c1 - 0.0813 * c2 + 128);
      c0 = y;
      c1 = cb;
      c2 = cr;
    }
    planes[0][p] = c0 / 255;
    planes[1][p] = c1 / 255;
    planes[2][p] = c2 / 255;
  }
  for (let c = 0; c < 3; c++) {
    if (luminanceOnly && c !== 0) continue;
    waveletSharpen(planes[c], width, height, amount, radius);
  }
  const out = Buffer.from(raw.data);
  for (let i = 0, p = 0; p < size; i += channels, p++) {
    let v0 = f(planes[0][p] * 255),
      v1 = f(planes[1][p] * 255),
      v2 = f(planes[2][p] * 255);
    if (luminanceOnly) {
      const r = f(v0 + 1.402 * (v2 - 128));
      const g = f(v0 - 0.34414 * (v1 - 128) - 0.71414 * (v2 - 128));
      const b = f(v0 + 1.772 * (v1 - 128));
      v0 = r;
      v1 = g;
      v2 = b;
    }
    out[i] = clampTrunc(v0);
    out[i + 1] = clampTrunc(v1);
    out[i + 2] = clampTrunc(v2);
  }
  return withData(raw, out);
});
