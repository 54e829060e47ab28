/**
 * One key per picture: how a filter call is written in a variant key so that calls that cannot
 * give different output share one spelling. Each rule follows what thumbor's code (and our
 * render, which reproduces it) does with the argument: a value it clamps, wraps or ignores is
 * clamped, wrapped or dropped here, so every cache entry an URL can mint is a different picture
 * (or a different Cache-Control). The registry (filter-registry.ts) gives each filter its rule;
 * plan.ts `canonicalPlan` applies them. Pure: no sharp, no AWS.
 */
import type { FilterArg } from "./plan.js";

/** How repeated calls of one filter act. */
export type Repeats =
  /** Only the last call acts (the render reads `.at(-1)`): earlier ones leave the key. */
  | "last"
  /** The filter is a flag (the render asks whether it is there): calls after the first leave the key. */
  | "once"
  /** f(f(x)) = f(x): a call right after the same call leaves the key. */
  | "consecutive";

export interface KeyRule {
  /**
   * The arguments' one spelling (after thumbor's clamps and wraps), or null when the call cannot
   * change the output and leaves the key. Arguments it cannot read are returned as they are (the
   * render refuses them with a 400).
   */
  readonly args?: (args: readonly FilterArg[]) => FilterArg[] | null;
  readonly repeats?: Repeats;
  /**
   * Two calls in a row that act as one: the arguments of that one call (spelled by `args` next),
   * or undefined when these two cannot be merged.
   */
  readonly combine?: (first: readonly FilterArg[], second: readonly FilterArg[]) => FilterArg[] | undefined;
}

const num = (a: FilterArg | undefined): number | undefined => (typeof a === "number" && Number.isFinite(a) ? a : undefined);
const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, n));

/**
 * rotate(deg): thumbor acts only when `deg % 90 == 0`, then turns by `deg % 360` (Python's
 * modulo, so -90 is 270); a quarter turn of 0 changes nothing.
 */
export function rotateArgs(args: readonly FilterArg[]): FilterArg[] | null {
  const deg = num(args[0]);
  if (deg === undefined) return [...args];
  if (deg % 90 !== 0) return null;
  const turn = ((deg % 360) + 360) % 360;
  return turn === 0 ? null : [turn];
}

/** Two quarter turns in a row are one turn by their sum (pure pixel moves, nothing is rounded). */
export function combineRotations(first: readonly FilterArg[], second: readonly FilterArg[]): FilterArg[] | undefined {
  const a = num(first[0]);
  const b = num(second[0]);
  return a === undefined || b === undefined || a % 90 !== 0 || b % 90 !== 0 ? undefined : [(a + b) % 360];
}

/**
 * brightness(pct) and rgb(r, g, b): thumbor (`_brightness.c`, `_rgb.c`) adds trunc(255·pct/100)
 * and clamps each channel to 0..255. At ±100 the offset is ±255, which already takes every
 * channel to 255 (or 0), so larger values give the same picture: clamped to -100..100. Each
 * integer in that range is a different offset (255/100 > 1). 0 adds nothing.
 */
export function percentOffset(pct: number): number {
  return clamp(pct, -100, 100);
}

export function brightnessArgs(args: readonly FilterArg[]): FilterArg[] | null {
  const pct = num(args[0]);
  if (pct === undefined) return [...args];
  const v = percentOffset(pct);
  return v === 0 ? null : [v];
}

export function rgbArgs(args: readonly FilterArg[]): FilterArg[] | null {
  if (!args.slice(0, 3).every((a) => num(a) !== undefined)) return [...args];
  const v = args.slice(0, 3).map((a) => percentOffset(num(a)!) + 0);
  return v.every((x) => x === 0) ? null : v;
}

/**
 * contrast(pct): thumbor (`_contrast.c`) uses only the integer factor d = trunc((pct+100)²/100)
 * and maps c to trunc(d·(c-128)/100)+128, clamped. So pct and -200-pct give one picture (the
 * square), pcts with the same d give one picture, and from d = 12800 on every channel is 0, 128
 * or 255 already (|c-128| ≥ 1 moves by ≥ 128). The spelling: the smallest s = pct+100 ≥ 0 with
 * that d, i.e. s = ceil(sqrt(100·d)); d = 100 (pct 0 or -200) changes nothing.
 */
export const CONTRAST_SATURATED_FACTOR = 12800;

export function contrastFactor(pct: number): number {
  return Math.trunc(((pct + 100) * (pct + 100)) / 100);
}

export function contrastArgs(args: readonly FilterArg[]): FilterArg[] | null {
  const pct = num(args[0]);
  if (pct === undefined || !Number.isInteger(pct)) return [...args];
  // 1132 is the first s with s²/100 ≥ 12800: capping s first keeps the square exact.
  const s = Math.min(Math.abs(pct + 100), 1132);
  const d = Math.min(contrastFactor(s - 100), CONTRAST_SATURATED_FACTOR);
  if (d === 100) return null;
  let smallest = Math.ceil(Math.sqrt(100 * d));
  while (smallest > 0 && (smallest - 1) * (smallest - 1) >= 100 * d) smallest--;
  while (smallest * smallest < 100 * d) smallest++;
  return [smallest - 100];
}

/** blur()'s radius cap (thumbor's MAX_RADIUS). */
export const MAX_BLUR_RADIUS = 150;

/**
 * blur(radius[, sigma]): the radius is capped at thumbor's MAX_RADIUS; sigma 0 means
 * "the radius" (the default, so it leaves the key), and the kernel exp(-x²/2σ²) does not see
 * sigma's sign.
 */
export function blurArgs(args: readonly FilterArg[]): FilterArg[] | null {
  const radius = num(args[0]);
  if (radius === undefined) return [...args];
  const r = Math.min(radius, MAX_BLUR_RADIUS);
  if (args.length < 2) return [r];
  const sigma = num(args[1]);
  if (sigma === undefined) return [r, args[1]!];
  const s = Math.abs(sigma);
  return s === 0 || s === r ? [r] : [r, s];
}

/**
 * noise(amount[, seed]): thumbor (`_noise.c`) keeps both in C ints (wrapped to 32 bits), does
 * nothing for an amount ≤ 0 and reseeds only for a seed > 0. The render starts every unseeded call from glibc's initial
 * state, which is srand(1)'s: seeds that wrap to ≤ 1 are the default (0).
 */
export function noiseArgs(args: readonly FilterArg[]): FilterArg[] | null {
  const raw = num(args[0]);
  if (raw === undefined || !Number.isInteger(raw)) return [...args];
  const amount = raw | 0;
  if (amount <= 0) return null;
  if (args.length < 2) return [amount];
  const seed = num(args[1]);
  if (seed === undefined) return [amount, args[1]!];
  const wrapped = seed | 0;
  return wrapped > 1 ? [amount, wrapped] : [amount];
}

/**
 * saturation(factor): the render (like thumbor's C) multiplies in single precision, so factors
 * with one float32 value give one picture: spelled as the shortest decimal of that float32.
 * 1 keeps the picture.
 */
export function saturationArgs(args: readonly FilterArg[]): FilterArg[] | null {
  const factor = num(args[0]);
  if (factor === undefined) return [...args];
  const f = Math.fround(factor);
  if (f === 1) return null;
  return [shortestFloat32(f)];
}

/** The shortest decimal that reads back as the float32 `f`. */
export function shortestFloat32(f: number): number {
  for (let digits = 1; digits < 9; digits++) {
    const n = Number(f.toPrecision(digits));
    if (Math.fround(n) === f) return n + 0;
  }
  return Number(f.toPrecision(9)) + 0;
}

/** proportion(p): only 0 < p < 1 resizes (thumbor ignores other values; 1 is the same size). */
export function proportionArgs(args: readonly FilterArg[]): FilterArg[] | null {
  const p = num(args[0]);
  if (p === undefined) return [...args];
  return p > 0 && p < 1 ? [p] : null;
}

/** round_corner(radii, r, g, b[, transparent]): the colour channels are bytes (`& 255`, as the C keeps them). */
export function roundCornerArgs(args: readonly FilterArg[]): FilterArg[] | null {
  return args.map((a, i) => (i >= 1 && i <= 3 && num(a) !== undefined && Number.isInteger(a) ? (num(a)! & 255) + 0 : a));
}

/**
 * watermark(url, x, y, alpha, ...): `_alpha.c` lowers alpha by trunc(255·alpha/100), clamped at
 * 0: from 100 on the mark is invisible. Clamped rather than dropped: the mark is still read, and
 * a missing one is still a 400.
 */
export function watermarkArgs(args: readonly FilterArg[]): FilterArg[] | null {
  const alpha = num(args[3]);
  if (alpha === undefined) return [...args];
  return args.map((a, i) => (i === 3 ? Math.min(alpha, 100) : a));
}

/** max_bytes(n): thumbor tries to fit only when n > 0. */
export function maxBytesArgs(args: readonly FilterArg[]): FilterArg[] | null {
  return num(args[0]) === 0 ? null : [...args];
}

/**
 * max_age(seconds) changes the stored Cache-Control, not the pixels, yet every N would be one
 * more render and one more stored copy. So N is rounded down to this ladder (never cached longer
 * than asked), and capped at a year: the distribution's maxTtl (components/image-resizer.ts)
 * keeps CloudFront's copy no longer than that anyway, and HTTP/1.1 asked servers never to send
 * an expiry more than a year ahead (RFC 2616, Expires).
 */
const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;
export const MAX_AGE_STEPS: readonly number[] = Object.freeze([
  0,
  10,
  30,
  MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  30 * DAY,
  365 * DAY,
]);

export function maxAgeArgs(args: readonly FilterArg[]): FilterArg[] | null {
  const seconds = num(args[0]);
  if (seconds === undefined) return [...args];
  return [MAX_AGE_STEPS.filter((s) => s <= seconds).at(-1) ?? 0];
}

/** background_color(transparent): thumbor pastes onto a transparent canvas, which changes nothing. */
export function backgroundColorArgs(args: readonly FilterArg[]): FilterArg[] | null {
  return args[0] === "transparent" ? null : [...args];
}

/**
 * colorize(r, g, b, fill): `_colorize.c` moves each channel pct % toward the fill; 0 % on all
 * three moves nothing. Kept when the fill is not a hex colour, so that the render still refuses it.
 */
export function colorizeArgs(args: readonly FilterArg[]): FilterArg[] | null {
  const still = args.slice(0, 3).every((a) => a === 0) && /^[0-9a-f]{6}$/.test(String(args[3]));
  return still ? null : [...args];
}
