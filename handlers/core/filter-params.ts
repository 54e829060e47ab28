/**
 * thumbor's filter parameter types (`thumbor/filters/__init__.py` BaseFilter, and the special
 * patterns of its filters): the regex each argument must match and how a captured text becomes a
 * canonical argument. The filter registry (filter-registry.ts) declares each filter's parameters
 * with these; url/filters.ts compiles them into thumbor's grammar. Pure.
 */
import { THUMBOR_FORMAT_NAMES } from "./formats.js";
import type { FilterArg } from "./plan.js";
import { shortestFloat32 } from "./filter-key-rules.js";

/** One parameter type: thumbor's regex and how a captured text becomes a canonical argument. */
export interface ParamType {
  /** Regex source, Python syntax restricted to what means the same in JS (no capturing groups). */
  readonly regex: string;
  /** Canonical value of a captured text, or undefined when thumbor would not apply it. */
  readonly parse: (raw: string) => FilterArg | undefined;
  /** String-like: may be written in single quotes by formatFilterCall. */
  readonly quotable?: boolean;
}

export interface FilterParam {
  readonly type: ParamType;
  /** The Python default; a parameter with a default is optional. */
  readonly default?: FilterArg;
}

/** The arguments thumbor passes to a filter method: the given ones, then the defaults of the rest (up to the first without one). */
export function withDefaults(params: readonly FilterParam[], args: readonly FilterArg[]): FilterArg[] {
  const out = [...args];
  for (let i = out.length; i < params.length && params[i]!.default !== undefined; i++) out.push(params[i]!.default!);
  return out;
}

// thumbor's STRIP_QUOTE `^'(.+)'$` (Python's "." is anything but "\n").
const STRIP_QUOTE = /^'([^\n]+)'$/;

function toInt(raw: string): number | undefined {
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) return undefined;
  return n === 0 ? 0 : n;
}

/**
 * A decimal argument, spelled as the shortest decimal of its float32 value: the effects that read
 * one (blur's sigma through libvips' float32 kernel, sharpen's gains, saturation, convolution's
 * matrix) compute in single precision, so digits past it cannot give another picture, while
 * `1.000000000000001`, `1.0000000000000001` and every longer spelling would each mint a key.
 * (proportion(p) acts through floor(side × p): rounding p to float32 moves that by less than
 * 0.001 on any side the settings allow.) Beyond float32's range the value is kept as it is.
 */
function toDecimal(raw: string): number | undefined {
  const n = Number(raw);
  if (!Number.isFinite(n)) return undefined;
  const single = Math.fround(n);
  return Number.isFinite(single) ? shortestFloat32(single) : n;
}

/** An integer written with leading zeros ("010", "-007") in its one spelling; the sign is kept ("-0" means the far edge). */
function withoutLeadingZeros(raw: string): string {
  return raw.replace(/(^|[^\d.])0+(?=\d)/g, "$1");
}

/** convolution's matrix: each number in its one decimal spelling (as toDecimal), joined by ";". */
function matrixSpelling(raw: string): string {
  return raw
    .split(";")
    .map((cell) => {
      const n = toDecimal(cell);
      return n === undefined ? cell : String(n);
    })
    .join(";");
}

function stripQuotes(raw: string): string {
  const m = STRIP_QUOTE.exec(raw);
  return m ? m[1]! : raw;
}

const asIs = (raw: string): string => raw;

/** thumbor's BaseFilter parameter types, and the special per-filter patterns of its filters. */
export const PARAM_TYPES = Object.freeze({
  Number: { regex: "[-]?[\\d]+", parse: toInt },
  PositiveNumber: { regex: "[\\d]+", parse: toInt },
  PositiveNonZeroNumber: { regex: "[\\d]*[1-9][\\d]*", parse: toInt },
  NegativeNumber: { regex: "[-][\\d]+", parse: toInt },
  DecimalNumber: { regex: "[-]?(?:(?:[\\d]+\\.?[\\d]*)|(?:[\\d]*\\.?[\\d]+))", parse: toDecimal },
  Boolean: { regex: "[Tt]rue|[Ff]alse|1|0", parse: (raw: string) => raw === "true" || raw === "True" || raw === "1" },
  String: { regex: "(?:'.+?')|(?:[^,]+?)", parse: stripQuotes, quotable: true },
  /** fill, background_color: a CSS name or hex without "#" (and fill's auto/blur/transparent). */
  Color: { regex: "[\\w]+", parse: (raw: string) => raw.toLowerCase() },
  /** colorize's fill colour: a String that is a hex colour. */
  ColorString: { regex: "(?:'.+?')|(?:[^,]+?)", parse: (raw: string) => stripQuotes(raw).toLowerCase(), quotable: true },
  /** format(): a String; anything but a known format is None in thumbor, so the call is dropped. */
  FormatName: {
    regex: "(?:'.+?')|(?:[^,]+?)",
    parse: (raw: string) => THUMBOR_FORMAT_NAMES.get(stripQuotes(raw).toLowerCase()),
    quotable: true,
  },
  ConvolutionMatrix: { regex: "-?\\d+(?:\\.\\d*)?(?:;-?\\d+(?:\\.\\d*)?)*", parse: matrixSpelling },
  Curve: { regex: "\\[(?:\\(\\d+,\\d+\\),?)*\\]", parse: withoutLeadingZeros },
  /** round_corner: "a" or "a|b" (elliptical radii). */
  CornerRadius: { regex: "\\d+(?:\\|\\d+)?", parse: withoutLeadingZeros },
  /** watermark x/y: pixels (negative = from the right/bottom, "-0" included), "Np" percent, center, repeat. */
  WatermarkPosition: { regex: "(?:-?\\d+p?)|center|repeat", parse: withoutLeadingZeros },
  /** watermark w_ratio/h_ratio: a percentage, or "none" (= thumbor's default False). */
  WatermarkRatio: { regex: "(?:-?\\d+)|none", parse: (raw: string) => (raw === "none" ? "none" : toInt(raw)) },
  /** gifv's output container. */
  GifvFormat: { regex: "mp4|webm", parse: asIs },
} satisfies Record<string, ParamType>);
