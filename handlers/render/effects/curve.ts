/**
 * curve(a, r, g, b): thumbor (`_curve.c`) turns each list of points `[(x,y),...]` into a
 * 256-entry tone table by natural cubic-spline interpolation between the points (rounded,
 * clamped to 0..255; levels below the first x take the first y, levels from the last x up take
 * the last y), then maps every pixel through its channel's table and then through the
 * all-channels table `a`. Coordinates are bytes in thumbor (a value of 300 wraps to 44); so here.
 *
 * Here: the same tables, applied to the raw pixels (sharp has no tone-curve operation).
 * Parity: exact for well-formed curves. Differences: an empty list `[]` (undefined behaviour in
 * thumbor's C) is the identity here, and points whose x does not increase are ignored here
 * (thumbor divides by zero or skips the segment).
 */
import { RequestError } from "../../core/errors.js";
import { stringArg } from "../common/filter-args.js";
import { applyChannelTables, perFrame } from "../common/raw.js";

export type CurvePoint = [x: number, y: number];

/** Parses thumbor's `[(x,y),(x,y),...]` (each coordinate taken as a byte, as thumbor's C cast does). */
export function parseCurve(text: string): CurvePoint[] {
  const compact = text.replace(/\s+/g, "");
  if (!/^\[(?:\(\d+,\d+\),?)*\]$/.test(compact)) throw new RequestError(400, `curve: "${text}" is not a list of (x,y) points`);
  return [...compact.matchAll(/\((\d+),(\d+)\)/g)].map((m) => [Number(m[1]) & 255, Number(m[2]) & 255]);
}

/** The 256-entry tone table of a curve, by thumbor's natural cubic spline. */
export function curveTable(input: CurvePoint[]): Uint8Array {
  const table = new Uint8Array(256);
  const points = input.filter((p, i) => i === 0 || p[0] > input[i - 1][0]);
  if (points.length === 0) {
    for (let v = 0; v < 256; v++) table[v] = v;
    return table;
  }
  const n = points.length;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const d2 = splineSecondDerivatives(xs, ys);
  table.fill(ys[0]);
  for (let i = 0; i < n - 1; i++) {
    const h = xs[i + 1] - xs[i];
    for (let x = xs[i]; x < xs[i + 1]; x++) {
      const t = (x - xs[i]) / h;
      const a = 1 - t;
      const y = a * ys[i] + t * ys[i + 1] + ((h * h) / 6) * ((a * a * a - a) * d2[i] + (t * t * t - t) * d2[i + 1]);
      // C's round(): halves away from zero.
      const r = Math.sign(y) * Math.round(Math.abs(y));
      table[x] = r > 255 ? 255 : r < 0 ? 0 : r;
    }
  }
  for (let x = xs[n - 1]; x < 256; x++) table[x] = ys[n - 1];
  return table;
}

/** Second derivatives of the natural cubic spline through the points (zero at both ends): a tridiagonal solve. */
function splineSecondDerivatives(xs: number[], ys: number[]): Float64Array {
  const n = xs.length;
  const d2 = new Float64Array(n);
  if (n < 3) return d2;
  const sub = new Float64Array(n),
    diag = new Float64Array(n),
    sup = new Float64Array(n),
    rhs = new Float64Array(n);
  diag[0] = 1;
  diag[n - 1] = 1;
  for (let i = 1; i < n - 1; i++) {
    sub[i] = (xs[i] - xs[i - 1]) / 6;
    diag[i] = (xs[i + 1] - xs[i - 1]) / 3;
    sup[i] = (xs[i + 1] - xs[i]) / 6;
    rhs[i] = (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]) - (ys[i] - ys[i - 1]) / (xs[i] - xs[i - 1]);
  }
  // Thomas algorithm: eliminate the sub-diagonal, then substitute back.
  for (let i = 1; i < n; i++) {
    const k = sub[i] / diag[i - 1];
    diag[i] -= k * sup[i - 1];
    rhs[i] -= k * rhs[i - 1];
  }
  d2[n - 1] = rhs[n - 1] / diag[n - 1];
  for (let i = n - 2; i >= 0; i--) d2[i] = (rhs[i] - sup[i] * d2[i + 1]) / diag[i];
  return d2;
}

export const curve = perFrame((raw, args) => {
  const [all, red, green, blue] = [0, 1, 2, 3].map((i) => curveTable(parseCurve(stringArg("curve", args, i))));
  const compose = (channel: Uint8Array) => channel.map((v) => all[v]);
  return applyChannelTables(raw, compose(red), compose(green), compose(blue));
});
