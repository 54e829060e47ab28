/**
 * The filter registry: every built-in thumbor filter, once. Its URL name, its argument grammar
 * (thumbor's parameter types), when thumbor runs it, where edge-resizer handles it, whether it
 * is costly and whether it reads another image. Every other list of filter names derives from
 * here: the grammar (url/filters.ts), what viewer-request accepts and the planner consumes
 * (url/request-plan.ts), the limits (plan-limits.ts), the render's dispatch (render/pipeline.ts,
 * render/effects/index.ts, checked against this table by tests/render/filter-support.test.ts) and the
 * audit. Pure: no sharp, no AWS.
 *
 * Code that names a filter writes a FilterName (plan-queries.ts `filterCalls`, `hasFilter`,
 * `isCall`; the render's argument readers), so tsc refuses a name this table does not have, and
 * reads a filter's defaults from here (`argsWithDefaults`), never a fallback of its own.
 *
 * Adding a filter: one entry here, one module in render/effects/ registered in its index, one test.
 */
import { PARAM_TYPES as T, withDefaults, type FilterParam, type ParamType } from "./filter-params.js";
import type { FilterArg } from "./plan.js";
import * as K from "./filter-key-rules.js";
import type { KeyRule } from "./filter-key-rules.js";

/** When thumbor runs a filter: before loading, after loading (before the transform), or after. */
export type FilterPhase = "pre" | "after" | "post";

/**
 * Where edge-resizer handles a filter:
 * - planner: url/request-plan.ts turns it into plan fields or another plan part; never in a key's filters;
 * - geometry: render/geometry.ts, in the crop and resize arithmetic;
 * - encoder: the render, when choosing the output (format, frames, metadata, size, lifetime);
 * - effect: a pixel step, run in URL order after the transform (render/effects/);
 * - none: no code acts on it, because what it asks for always holds (`inherent` says why); it is
 *   accepted and kept in keys like any implemented filter;
 * - unsupported: refused with a 400 naming the filter (the reason says why).
 * tests/core/filter-registry.test.ts checks that the code asks about each planner, geometry and
 * encoder filter where this says, and about none and unsupported ones nowhere.
 */
export type FilterHandler = "planner" | "geometry" | "encoder" | "effect" | "none" | "unsupported";

/** What thumbor's grammar needs of a filter (custom grammars in tests declare only this). */
export interface FilterSyntax {
  readonly name: string;
  readonly params: readonly FilterParam[];
  readonly phase: FilterPhase;
}

export interface FilterDefinition extends FilterSyntax {
  /**
   * Who reads it in thumbor: a filter module, or (cover, gifv) the transformer/optimizer looking
   * at the raw filter string. We parse them all the same way.
   */
  readonly appliedBy: "filter" | "transformer" | "optimizer";
  readonly handledBy: FilterHandler;
  /** Why an unsupported filter is refused. */
  readonly unsupportedReason?: string;
  /** Why a filter handled by "none" needs no code: what always holds without it. */
  readonly inherent?: string;
  /** Costs time in proportion to pixels × kernel size: plan-limits.ts caps how many one URL chains. */
  readonly costly: boolean;
  /** Its first argument names another image, read from the bucket (render/effects/bucket-image.ts). */
  readonly readsImage: boolean;
  /**
   * How its calls are spelled in a variant key (filter-key-rules.ts): argument clamps and no-op
   * values from thumbor's code, and how repeats act. Empty: every call and argument counts as given.
   */
  readonly key: KeyRule;
  /**
   * An effect's CPU time in ms per megapixel of the image it runs on, per frame, with its costliest
   * arguments (measured by bench/filter-costs.ts; 0 for filters that are no pixel step): what the
   * render budget (render-budget.ts) counts for each call.
   */
  readonly renderCost: number;
}

type Extra = Partial<
  Pick<FilterDefinition, "phase" | "appliedBy" | "costly" | "readsImage" | "unsupportedReason" | "inherent" | "key" | "renderCost">
>;

const p = (type: ParamType, ...dflt: [FilterArg?]): FilterParam => (dflt.length > 0 ? { type, default: dflt[0] } : { type });
const def = <N extends string>(
  name: N,
  handledBy: FilterHandler,
  params: FilterParam[],
  more: Extra = {},
): FilterDefinition & { name: N } =>
  Object.freeze({
    name,
    params: Object.freeze(params),
    phase: "post",
    appliedBy: "filter",
    handledBy,
    costly: false,
    readsImage: false,
    renderCost: 0,
    ...more,
    key: Object.freeze({ ...more.key }),
  });

const costly = { costly: true } as const;
const readsImage = { readsImage: true } as const;
// Key rules (filter-key-rules.ts says why each holds).
const once = { repeats: "once" } as const;
const last = { repeats: "last" } as const;
/** An effect's measured cost (FilterDefinition.renderCost). */
const cost = (renderCost: number) => ({ renderCost });

/** Every built-in thumbor filter (thumbor 7.8's thumbor/filters/ package), grouped by where it is handled. */
const DEFINITION_LIST = [
  def("format", "planner", [p(T.FormatName)]),
  def("quality", "planner", [p(T.PositiveNumber)]),
  def("extract_focal", "planner", [], { phase: "pre" }),
  // Acts only when thumbor's gifv optimizer is configured (not by default): ignored unless strict.
  def("gifv", "planner", [p(T.GifvFormat, "mp4")], { appliedBy: "optimizer" }),
  def("focal", "geometry", [p(T.String)], { phase: "pre" }),
  def("stretch", "geometry", [], { phase: "pre", key: once }),
  def("no_upscale", "geometry", [], { phase: "after", key: once }),
  def("upscale", "geometry", [], { key: once }),
  def("autojpg", "encoder", [p(T.Boolean, true)], { key: last }),
  def("cover", "encoder", [], { appliedBy: "transformer", key: once }),
  def("max_age", "encoder", [p(T.PositiveNumber)], { key: { args: K.maxAgeArgs, ...last } }),
  def("max_bytes", "encoder", [p(T.PositiveNumber)], { key: { args: K.maxBytesArgs, ...last } }),
  // thumbor's strip_exif drops the engine's EXIF before it writes the image.
  def("strip_exif", "none", [], {
    key: once,
    inherent: "variants never carry EXIF: the encoder writes no metadata (sharp keeps none unless asked)",
  }),
  def("strip_icc", "encoder", [], { key: once }),
  // Neighbourhood effects first: the costly ones.
  def("blur", "effect", [p(T.PositiveNonZeroNumber), p(T.DecimalNumber, 0)], { ...costly, ...cost(270), key: { args: K.blurArgs } }),
  def("sharpen", "effect", [p(T.DecimalNumber), p(T.DecimalNumber), p(T.Boolean)], { ...costly, ...cost(450) }),
  def("convolution", "effect", [p(T.ConvolutionMatrix), p(T.PositiveNonZeroNumber), p(T.Boolean, true)], { ...costly, ...cost(60) }),
  def("background_color", "effect", [p(T.Color)], { ...cost(10), key: { args: K.backgroundColorArgs } }),
  def("brightness", "effect", [p(T.Number)], { ...cost(40), key: { args: K.brightnessArgs } }),
  def("colorize", "effect", [p(T.PositiveNumber), p(T.PositiveNumber), p(T.PositiveNumber), p(T.ColorString)], {
    ...cost(50),
    key: { args: K.colorizeArgs },
  }),
  def("contrast", "effect", [p(T.Number)], { ...cost(40), key: { args: K.contrastArgs } }),
  def("curve", "effect", [p(T.Curve), p(T.Curve), p(T.Curve), p(T.Curve)], cost(60)),
  def("equalize", "effect", [], cost(60)),
  def("fill", "effect", [p(T.Color), p(T.Boolean, false)], cost(200)),
  def("frame", "effect", [p(T.String)], { ...readsImage, ...cost(260) }),
  // Pillow luma of a grey image is the image (the weights sum to 65536): a second one in a row is a no-op.
  def("grayscale", "effect", [], { ...cost(20), key: { repeats: "consecutive" } }),
  def("noise", "effect", [p(T.PositiveNumber), p(T.PositiveNumber, 0)], { ...cost(60), key: { args: K.noiseArgs } }),
  def("proportion", "effect", [p(T.DecimalNumber)], { ...cost(20), key: { args: K.proportionArgs } }),
  def("rgb", "effect", [p(T.Number), p(T.Number), p(T.Number)], { ...cost(30), key: { args: K.rgbArgs } }),
  def("rotate", "effect", [p(T.Number)], { ...cost(20), key: { args: K.rotateArgs, combine: K.combineRotations } }),
  def("round_corner", "effect", [p(T.CornerRadius), p(T.PositiveNumber), p(T.PositiveNumber), p(T.PositiveNumber), p(T.Boolean, false)], {
    ...cost(30),
    key: { args: K.roundCornerArgs },
  }),
  def("saturation", "effect", [p(T.DecimalNumber)], { ...cost(80), key: { args: K.saturationArgs } }),
  def(
    "watermark",
    "effect",
    [
      p(T.String),
      p(T.WatermarkPosition),
      p(T.WatermarkPosition),
      p(T.PositiveNumber),
      p(T.WatermarkRatio, "none"),
      p(T.WatermarkRatio, "none"),
    ],
    { ...readsImage, ...cost(170), key: { args: K.watermarkArgs } },
  ),
  // thumbor's redeye module (not in its BUILTIN_FILTERS) lowers red inside eyes found by OpenCV's
  // face and eye cascades; desaturating red everywhere would damage pictures thumbor leaves alone.
  def("red_eye", "unsupported", [], {
    unsupportedReason: "needs face and eye detection (OpenCV in thumbor); not available at the edge",
  }),
];

/** A filter's URL name: one of the registry's, so tsc refuses a misspelt one. */
export type FilterName = (typeof DEFINITION_LIST)[number]["name"];

/** Every built-in thumbor filter, by URL name. */
export const THUMBOR_FILTERS: Readonly<Record<FilterName, FilterDefinition>> = Object.freeze(
  Object.fromEntries(DEFINITION_LIST.map((d) => [d.name, d])) as Record<FilterName, FilterDefinition>,
);

const DEFINITIONS: readonly FilterDefinition[] = DEFINITION_LIST;
const namesWhere = (test: (d: FilterDefinition) => boolean): ReadonlySet<string> => new Set(DEFINITIONS.filter(test).map((d) => d.name));

/** Whether a name (from a URL or a key) is a registry filter's (never an Object.prototype member). */
export function isFilterName(name: string): name is FilterName {
  return Object.hasOwn(THUMBOR_FILTERS, name);
}

/** The registry entry of a filter name, or undefined (never an Object.prototype member). */
export function filterDefinition(name: string): FilterDefinition | undefined {
  return isFilterName(name) ? THUMBOR_FILTERS[name] : undefined;
}

/** The arguments thumbor passes to the filter method: the call's, then the registry's defaults for the rest. */
export function argsWithDefaults(name: FilterName, args: readonly FilterArg[]): FilterArg[] {
  return withDefaults(THUMBOR_FILTERS[name].params, args);
}

/** Filters the planner turns into plan fields or other plan parts: never in a plan's filter list. */
export const PLANNER_FILTERS = namesWhere((d) => d.handledBy === "planner");

/** Filters a plan may carry to the render (a key's filters): geometry, encoder, effects, and those whose effect is inherent. */
export const IMPLEMENTED_FILTERS = namesWhere(
  (d) => d.handledBy === "geometry" || d.handledBy === "encoder" || d.handledBy === "effect" || d.handledBy === "none",
);

/** Filters that run as pixel steps in URL order. */
export const EFFECT_FILTERS = namesWhere((d) => d.handledBy === "effect");

export const COSTLY_FILTERS = namesWhere((d) => d.costly);

export const FILTERS_WITH_IMAGES = namesWhere((d) => d.readsImage);
