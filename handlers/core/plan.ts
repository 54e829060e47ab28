/**
 * TransformPlan: the whole description of one variant, independent of how it was asked for
 * (`?d=` or a thumbor URL) and of AWS, HTTP and sharp.
 *
 * The variant key (variant-key.ts) is a lossless, canonical spelling of a plan; the
 * origin-response handler rebuilds the plan from the key alone and hands it to the sharp
 * pipeline (pipeline.ts). Geometry (geometry.ts) turns a plan plus the original's size into
 * concrete operations.
 */
import { filterDefinition } from "./filter-registry.js";
import type { OutputFormat } from "./formats.js";

export type { OutputFormat };

/** thumbor's resize modes. `crop` is the default "fill the box, crop the overflow". */
export type FitMode = "crop" | "fit-in" | "full-fit-in" | "adaptive-fit-in" | "adaptive-full-fit-in";
export const FIT_MODES: readonly FitMode[] = ["crop", "fit-in", "full-fit-in", "adaptive-fit-in", "adaptive-full-fit-in"];

/** A requested side: pixels (0 = proportional to the other side) or `orig` (the source's size). */
export type Dimension = number | "orig";

export type HAlign = "left" | "center" | "right";
export type VAlign = "top" | "middle" | "bottom";
export type TrimCorner = "top-left" | "bottom-right";

/** One canonical argument value of a filter. */
export type FilterArg = string | number | boolean;

/**
 * A filter as it applies: canonical name and canonical arguments (each normalised to one
 * spelling; trailing arguments equal to their default are dropped), in URL order.
 * `format` and `quality` never appear here: they are plan fields.
 */
export interface FilterCall {
  name: string;
  args: FilterArg[];
}

export interface CropBox {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface TransformPlan {
  /** Bucket key of the original: decoded, no leading "/", no empty, "." or ".." segments. */
  source: string;
  /** Answer thumbor's JSON metadata document instead of an image. */
  meta: boolean;
  trim: { corner: TrimCorner; tolerance: number } | null;
  /** Manual crop in source pixels, before any resize. */
  crop: CropBox | null;
  fit: FitMode;
  width: Dimension;
  height: Dimension;
  flipHorizontal: boolean;
  flipVertical: boolean;
  /** Crop gravity; only meaningful for `fit: "crop"` without `smart`. */
  halign: HAlign;
  valign: VAlign;
  /** Content-aware crop (sharp's attention strategy); only meaningful for `fit: "crop"`. */
  smart: boolean;
  filters: FilterCall[];
  /** Output encoding; null = the original's own format (decided by origin-response once it has read it). */
  format: OutputFormat | null;
  /** Encoder quality 1..100 (always spelled, so changing the default makes new keys); 0 for `meta`. */
  quality: number;
}

/** A plan with every option at its default: the original, re-encoded at `quality`. */
export function basePlan(source: string, quality: number): TransformPlan {
  return {
    source,
    meta: false,
    trim: null,
    crop: null,
    fit: "crop",
    width: 0,
    height: 0,
    flipHorizontal: false,
    flipVertical: false,
    halign: "center",
    valign: "middle",
    smart: false,
    filters: [],
    format: null,
    quality,
  };
}

/**
 * Canonical form of a plan: options that cannot change the output are reset to their defaults,
 * so that equivalent requests share one key.
 */
export function canonicalPlan(plan: TransformPlan): TransformPlan {
  const p: TransformPlan = { ...plan, filters: canonicalFilters(plan.filters) };
  if (p.fit !== "crop" || p.smart) {
    // Alignment only places the crop window of `crop` mode; smart replaces it.
    p.halign = "center";
    p.valign = "middle";
  }
  if (p.fit !== "crop") p.smart = false;
  if (p.crop && p.crop.left === 0 && p.crop.top === 0 && p.crop.right === 0 && p.crop.bottom === 0) p.crop = null;
  if (p.meta) {
    // The JSON document does not depend on how the image would be encoded.
    p.format = null;
    p.quality = 0;
  }
  return p;
}

/**
 * The filters in their one spelling (each registry entry's `key` rule): arguments clamped and
 * wrapped as thumbor does, calls that change nothing dropped, calls in a row that act as one
 * merged, repeats that act once kept once. Filters the registry does not know are kept as they are.
 */
export function canonicalFilters(calls: readonly FilterCall[]): FilterCall[] {
  const spelled: FilterCall[] = [];
  for (const call of calls) {
    const rule = filterDefinition(call.name)?.key;
    const previous = spelled.at(-1);
    const merged = rule?.combine && previous?.name === call.name ? rule.combine(previous.args, call.args) : undefined;
    if (merged !== undefined) spelled.pop();
    const one = spellCall(call.name, merged ?? call.args);
    if (one) spelled.push(one);
  }
  return spelled.filter((call, i) => {
    const repeats = filterDefinition(call.name)?.key.repeats;
    if (repeats === "once") return spelled.findIndex((c) => c.name === call.name) === i;
    if (repeats === "last") return !spelled.slice(i + 1).some((c) => c.name === call.name);
    if (repeats === "consecutive") return i === 0 || !sameCall(spelled[i - 1]!, call);
    return true;
  });
}

/** One call's arguments by its key rule, trailing defaults dropped; null when it changes nothing. */
function spellCall(name: string, given: readonly FilterArg[]): FilterCall | null {
  const def = filterDefinition(name);
  const args = def?.key.args ? def.key.args(given) : [...given];
  if (args === null) return null;
  while (args.length > 0 && def !== undefined && args[args.length - 1] === def.params[args.length - 1]?.default) args.pop();
  return { name, args };
}

function sameCall(a: FilterCall, b: FilterCall): boolean {
  return a.name === b.name && a.args.length === b.args.length && a.args.every((x, i) => Object.is(x, b.args[i]));
}
