/**
 * Reference renderings of thumbor's pixel filters, written from thumbor's per-pixel formulas
 * (thumbor/ext/filters/*.c) directly on raw pixel arrays, without sharp and without the
 * effect modules' code paths (no lookup tables, no sharp operations), so a parity test compares
 * two independent computations.
 */
import type { Pixels } from "./effect-harness.js";

const clamp = (v: number) => (v > 255 ? 255 : v < 0 ? 0 : v);
/** C integer division: truncates toward zero. */
const cdiv = (a: number, b: number) => (a - (a % b)) / b;

/** Applies f to R, G, B of every pixel (alpha copied). */
function mapRgb(p: Pixels, f: (c: number, channel: number, pixel: number) => number): Uint8Array {
  const out = new Uint8Array(p.data);
  for (let i = 0, px = 0; i < p.data.length; i += p.channels, px++) {
    for (let c = 0; c < 3; c++) out[i + c] = f(p.data[i + c], c, px);
  }
  return out;
}

export function refBrightness(p: Pixels, amount: number): Uint8Array {
  const delta = cdiv(255 * amount, 100);
  return mapRgb(p, (c) => clamp(c + delta));
}

export function refContrast(p: Pixels, amount: number): Uint8Array {
  const d = cdiv((amount + 100) * (amount + 100), 100);
  return mapRgb(p, (c) => clamp(cdiv(d * (c - 128), 100) + 128));
}

export function refRgb(p: Pixels, r: number, g: number, b: number): Uint8Array {
  const deltas = [r, g, b].map((v) => cdiv(255 * v, 100));
  return mapRgb(p, (c, ch) => clamp(c + deltas[ch]));
}

export function refColorize(p: Pixels, pcts: number[], fill: number[]): Uint8Array {
  return mapRgb(p, (c, ch) => clamp(Math.trunc((c * (100 - pcts[ch]) + fill[ch] * pcts[ch]) / 100)));
}

/** Saturation in double precision (thumbor uses floats; tests allow for that). */
export function refSaturation(p: Pixels, change: number): Uint8Array {
  const out = new Uint8Array(p.data);
  for (let i = 0; i < p.data.length; i += p.channels) {
    const [r, g, b] = [p.data[i], p.data[i + 1], p.data[i + 2]];
    const lum = Math.sqrt(0.299 * r * r + 0.587 * g * g + 0.114 * b * b);
    for (let c = 0; c < 3; c++) out[i + c] = clamp(Math.trunc(lum + (p.data[i + c] - lum) * change));
  }
  return out;
}

/** Histogram equalisation by rank: c' = (#pixels ≤ c − cdfMin) / (N − cdfMin) · 255, with thumbor's shared cdfMin scan. */
export function refEqualize(p: Pixels): Uint8Array {
  const n = p.width * p.height;
  const sorted = [0, 1, 2].map((ch) => {
    const v = new Uint8Array(n);
    for (let i = 0; i < n; i++) v[i] = p.data[i * p.channels + ch];
    return v.sort();
  });
  /** Number of samples ≤ value (binary search in the sorted channel). */
  const rank = (ch: number, value: number) => {
    let lo = 0,
      hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[ch][mid] <= value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const darkest = Math.min(sorted[0][0], sorted[1][0], sorted[2][0]);
  const cdfMin = [0, 1, 2].map((ch) => (sorted[ch][0] === darkest ? rank(ch, darkest) : 0));
  return mapRgb(p, (c, ch) => {
    const v = ((rank(ch, c) - cdfMin[ch]) / (n - cdfMin[ch])) * 255;
    return Number.isFinite(v) ? Math.trunc(v) : 0;
  });
}

/** Natural cubic spline through the points, evaluated at integer x, by solving the full linear system (Gaussian elimination). */
export function refCurveValue(points: [number, number][], x: number): number {
  const n = points.length;
  if (x < points[0][0]) return points[0][1];
  if (x >= points[n - 1][0]) return points[n - 1][1];
  const xs = points.map((q) => q[0]),
    ys = points.map((q) => q[1]);
  // Unknowns M0..M(n-1) (second derivatives); M0 = M(n-1) = 0.
  const A: number[][] = Array.from({ length: n }, () => new Array(n + 1).fill(0));
  A[0][0] = 1;
  A[n - 1][n - 1] = 1;
  for (let i = 1; i < n - 1; i++) {
    const h0 = xs[i] - xs[i - 1],
      h1 = xs[i + 1] - xs[i];
    A[i][i - 1] = h0 / 6;
    A[i][i] = (h0 + h1) / 3;
    A[i][i + 1] = h1 / 6;
    A[i][n] = (ys[i + 1] - ys[i]) / h1 - (ys[i] - ys[i - 1]) / h0;
  }
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(A[r][col]) > Math.abs(A[pivot][col])) pivot = r;
    [A[col], A[pivot]] = [A[pivot], A[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const k = A[r][col] / A[col][col];
      for (let c = col; c <= n; c++) A[r][c] -= k * A[col][c];
    }
  }
  const M = A.map((row, i) => row[n] / row[i]);
  const i = xs.findIndex((_, k) => k < n - 1 && x >= xs[k] && x < xs[k + 1]);
  const h = xs[i + 1] - xs[i];
  const t = (x - xs[i]) / h;
  const y = (1 - t) * ys[i] + t * ys[i + 1] + ((h * h) / 6) * (((1 - t) ** 3 - (1 - t)) * M[i] + (t ** 3 - t) * M[i + 1]);
  return clamp(Math.sign(y) * Math.round(Math.abs(y)));
}

export function refCurve(p: Pixels, all: [number, number][], channels: [number, number][][]): Uint8Array {
  return mapRgb(p, (c, ch) => refCurveValue(all, refCurveValue(channels[ch], c)));
}

/** noise: one offset (rand() % amount) − (amount >> 1) per pixel, added to R, G and B. */
export function refNoise(p: Pixels, amount: number, rand: () => number): Uint8Array {
  const offsets: number[] = [];
  for (let i = 0; i < p.width * p.height; i++) offsets.push((rand() % amount) - Math.floor(amount / 2));
  return mapRgb(p, (c, _ch, px) => clamp(c + offsets[px]));
}

/** thumbor's `_convolution.c`: kernel (already normalised by the caller) over R, G, B, edges extended, truncated. */
export function refConvolve(p: Pixels, kernel: number[], columns: number): Uint8Array {
  const rows = kernel.length / columns;
  const midX = Math.floor(columns / 2),
    midY = Math.floor(rows / 2);
  const out = new Uint8Array(p.data);
  const at = (x: number, y: number, c: number) =>
    p.data[(Math.min(Math.max(y, 0), p.height - 1) * p.width + Math.min(Math.max(x, 0), p.width - 1)) * p.channels + c];
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let ky = 0; ky < rows; ky++)
          for (let kx = 0; kx < columns; kx++) sum += at(x + kx - midX, y + ky - midY, c) * kernel[ky * columns + kx];
        out[(y * p.width + x) * p.channels + c] = clamp(Math.trunc(sum));
      }
    }
  }
  return out;
}

/** thumbor's blur: the 1-D Gaussian exp(-x²/2σ²)/sqrt(2πσ²), normalised, over rows then columns. */
export function refBlur(p: Pixels, radius: number, sigma: number): Uint8Array {
  const taps: number[] = [];
  for (let i = 0; i <= 2 * radius; i++)
    taps.push(Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)) / Math.sqrt(2 * sigma * sigma * Math.PI));
  const sum = taps.reduce((a, b) => a + b, 0);
  const k = taps.map((t) => t / sum);
  const rowsDone: Pixels = { ...p, data: refConvolve(p, k, k.length) };
  return refConvolve(rowsDone, k, 1);
}

/**
 * thumbor's wavelet sharpen in closed form: with L₋₁ the channel and Lₙ = H_{2ⁿ}(Lₙ₋₁) the
 * à trous low-pass ([1 2 1]/4 at spacing 2ⁿ, mirrored edges, rows then columns), the result is
 * Σₙ₌₀..₄ gₙ·(Lₙ₋₁ − Lₙ) + L₄ with gₙ = 1 + amount·exp(−(n − radius)²/1.5). RGB channels only.
 */
export function refSharpen(p: Pixels, amount: number, radius: number): Uint8Array {
  const { width: w, height: h } = p;
  const reflect = (i: number, size: number) => (i < 0 ? -i : i >= size ? 2 * size - 2 - i : i);
  const lowPass = (src: Float64Array, spacing: number) => {
    const tmp = new Float64Array(w * h),
      dst = new Float64Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        tmp[y * w + x] = (2 * src[y * w + x] + src[y * w + reflect(x - spacing, w)] + src[y * w + reflect(x + spacing, w)]) / 4;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        dst[y * w + x] = (2 * tmp[y * w + x] + tmp[reflect(y - spacing, h) * w + x] + tmp[reflect(y + spacing, h) * w + x]) / 4;
    return dst;
  };
  const out = new Uint8Array(p.data);
  for (let c = 0; c < 3; c++) {
    let prev = new Float64Array(w * h);
    for (let i = 0; i < w * h; i++) prev[i] = p.data[i * p.channels + c] / 255;
    const result = new Float64Array(w * h);
    for (let n = 0; n < 5; n++) {
      const low = lowPass(prev, 1 << n);
      const gain = 1 + amount * Math.exp(-((n - radius) ** 2) / 1.5);
      for (let i = 0; i < w * h; i++) result[i] += gain * (prev[i] - low[i]);
      prev = low;
    }
    for (let i = 0; i < w * h; i++) out[i * p.channels + c] = clamp(Math.trunc((result[i] + prev[i]) * 255));
  }
  return out;
}

/** PIL's transpose for a counter-clockwise quarter turn count (1 = ROTATE_90, 2 = ROTATE_180, 3 = ROTATE_270). */
export function refRotateCcw(p: Pixels, quarterTurns: 1 | 2 | 3): Pixels {
  const { width: w, height: h, channels: n } = p;
  const ow = quarterTurns === 2 ? w : h,
    oh = quarterTurns === 2 ? h : w;
  const out = new Uint8Array(ow * oh * n);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      const [x, y] = quarterTurns === 1 ? [w - 1 - oy, ox] : quarterTurns === 2 ? [w - 1 - ox, h - 1 - oy] : [oy, h - 1 - ox];
      for (let c = 0; c < n; c++) out[(oy * ow + ox) * n + c] = p.data[(y * w + x) * n + c];
    }
  }
  return { data: out, width: ow, height: oh, channels: n };
}

/**
 * Whether thumbor's round_corner paints pixel (x, y): rows within b of the top or bottom edge,
 * columns within the run trunc(a − a·sqrt(b² − d²)/b) from the left (one pixel less on the right),
 * where d is the row's distance from the ellipse centre line.
 */
export function refCornerPainted(x: number, y: number, width: number, height: number, aRadius: number, bRadius: number): boolean {
  const a = Math.min(aRadius, Math.floor(width / 2));
  const b = Math.min(bRadius, Math.floor(height / 2));
  if (a === 0 || b === 0) return false;
  let d: number;
  if (y <= b) d = b - y;
  else if (y >= height - b - 1) d = y - (height - b - 1);
  else return false;
  const run = Math.trunc(Math.fround(a - Math.fround((a * Math.sqrt(b * b - d * d)) / b)));
  return x < run || x > width - run;
}

/** Porter–Duff "over" of a straight-alpha RGBA watermark onto opaque RGB pixels at (left, top), clipped. */
export function refOver(base: Pixels, mark: Pixels, left: number, top: number): Uint8Array {
  const out = new Uint8Array(base.data);
  for (let y = 0; y < mark.height; y++) {
    for (let x = 0; x < mark.width; x++) {
      const bx = left + x,
        by = top + y;
      if (bx < 0 || by < 0 || bx >= base.width || by >= base.height) continue;
      const m = (y * mark.width + x) * 4;
      const alpha = mark.data[m + 3] / 255;
      const o = (by * base.width + bx) * base.channels;
      for (let c = 0; c < 3; c++) out[o + c] = Math.round(mark.data[m + c] * alpha + out[o + c] * (1 - alpha));
    }
  }
  return out;
}

/**
 * thumbor's background_color: `_composite.c` merging RGBA pixels onto an opaque canvas of one
 * colour, per its macros (ALPHA_COMPOSITE_COLOR_CHANNEL, ADJUST_COLOR_DOUBLE: truncation), with
 * the canvas's transparency fixed at 0. Returns RGBA.
 */
export function refBackgroundColour(p: Pixels, colour: [number, number, number]): Uint8Array {
  const out = new Uint8Array(p.width * p.height * 4);
  for (let i = 0, o = 0; i < p.data.length; i += 4, o += 4) {
    const a2 = 255 - p.data[i + 3]; // the image's transparency, as _composite inverts it
    for (let c = 0; c < 3; c++) {
      const v = (1.0 - a2 / 255.0) * p.data[i + c] + (1.0 - 0 / 255.0) * colour[c] * (a2 / 255.0);
      out[o + c] = Math.trunc(Math.min(255, Math.max(0, v)));
    }
    out[o + 3] = 255;
  }
  return out;
}

/** thumbor's `fill(auto)` colour (`_fill.apply`): each of R, G, B summed over every pixel, then C's integer division by the pixel count. */
export function refAutoFillColour(p: Pixels): [number, number, number] {
  const sums = [0, 0, 0];
  for (let i = 0; i < p.data.length; i += p.channels) for (let c = 0; c < 3; c++) sums[c] += p.data[i + c];
  const n = p.width * p.height;
  return [cdiv(sums[0], n), cdiv(sums[1], n), cdiv(sums[2], n)];
}

/** Pillow's `convert("RGB")` of CMYK ink values (profile ignored): nk − round(ink·nk/255), nk = 255 − K. */
export function refPillowCmykToRgb(cmyk: Uint8Array): Uint8Array {
  const out = new Uint8Array((cmyk.length / 4) * 3);
  for (let i = 0, o = 0; i < cmyk.length; i += 4) {
    const nk = 255 - cmyk[i + 3];
    for (let c = 0; c < 3; c++) out[o++] = nk - Math.round((cmyk[i + c] * nk) / 255);
  }
  return out;
}
