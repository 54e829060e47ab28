/**
 * URLs for applications: thumbor URLs (signed with the stack's key, or unsafe) and `?d=` URLs
 * that this project's viewer-request accepts. Apps import it as `edge-resizer/url`.
 *
 * Thumbor paths are spelled exactly as libthumbor's `CryptoURL.generate` spells them (option
 * order, defaults left out, `-0x-0` for flips without a size, a zero crop omitted, the image and
 * filters written as given), so a team moving from libthumbor gets the same URLs and the same
 * cache entries. Where libthumbor writes a URL that does not mean what it was asked (a flip lost
 * when only the height is set, `trim::5`, an image path that starts with `left/`), or one our
 * edge would refuse, the builder refuses with the reason instead of returning it.
 *
 * What "accepted" means is decided by the edge's own modules, not re-implemented here: the URL
 * is read back with thumbor's grammar (thumbor-url.ts) and must give back the options; filters go
 * through the strict filter grammar (filters.ts); and the stack's planner (request-plan.ts) plus
 * origin-response's key reader (variant-key.ts) must take it. Signing uses signature.ts.
 *
 * Keys are secrets: build signed URLs on a server, never in a browser.
 */
import { isRequestError } from "../core/errors.js";
import { FILTERS_WITH_IMAGES, IMPLEMENTED_FILTERS, PLANNER_FILTERS } from "../core/filter-registry.js";
import { checkOriginalKey, filterImageKey } from "../core/image-path.js";
import type { CropBox, Dimension, FilterCall, FitMode, HAlign, TrimCorner, VAlign } from "../core/plan.js";
import { isCall } from "../core/plan-queries.js";
import { DEFAULT_SETTINGS, validateSettings, type Settings, type ThumborSettings } from "../core/settings.js";
import { parseVariantKey, variantKeyToUri } from "../core/variant-key.js";
import { formatFilterCall, parseFilterList } from "./filters.js";
import { createRequestPlanner, type RequestPlanner } from "./request-plan.js";
import { signThumborPath } from "./signature.js";
import { quoteLikePython, unquoteLikePython } from "../core/python.js";
import { parseThumborPath, type ThumborUrl } from "./thumbor-url.js";

export type { CropBox, Dimension, FilterCall, HAlign, TrimCorner, VAlign };

/** Every option of thumbor's URL grammar (libthumbor's names in brackets where they differ). */
export interface ThumborOptions {
  /** The image as it appears in the URL, percent-encoded like libthumbor's `image_url`; see `imagePathForKey`. */
  image: string;
  debug?: boolean;
  meta?: boolean;
  /** `true` = `trim`; or a corner (default top-left) and a colour tolerance. */
  trim?: boolean | { corner?: TrimCorner; tolerance?: number };
  /** Manual crop in source pixels; all zeros = no crop (libthumbor's `crop=((l,t),(r,b))`). */
  crop?: CropBox;
  /** [fit_in, full_fit_in, adaptive_fit_in, adaptive_full_fit_in] */
  fit?: Exclude<FitMode, "crop">;
  width?: Dimension;
  height?: Dimension;
  /** [flip] mirror left-right (a "-" before the width). */
  flipHorizontal?: boolean;
  /** [flop] mirror top-bottom (a "-" before the height). */
  flipVertical?: boolean;
  halign?: HAlign;
  valign?: VAlign;
  smart?: boolean;
  /** In URL order: thumbor text as libthumbor takes it (`"quality(80)"`, percent-encoded as it goes in the URL), or a call. */
  filters?: readonly (string | FilterCall)[];
}

/** What the builder must know of the stack to promise that its edge accepts a URL. Defaults: the project's defaults. */
export interface StackRules {
  maxWidth?: number;
  maxHeight?: number;
  /** The `?d=` allow-list: `dimensions` then builds only these sizes. */
  sizes?: string[];
  variantPrefix?: string;
  thumbor?: Partial<Pick<ThumborSettings, "pathPrefix" | "stripHosts">>;
}

export interface UrlBuilderOptions {
  /** Prepended to every URL, e.g. "https://images.example.com"; default "" (paths). */
  baseUrl?: string;
  /** The stack's `securityKey` (a string is UTF-8, as the edge reads it; bytes are used as they are). */
  key?: string | Uint8Array;
  /** Build `/unsafe/` thumbor URLs instead of signed ones (the stack must allow them). */
  unsafe?: boolean;
  stack?: StackRules;
}

export interface UrlBuilder {
  /** libthumbor's exact output for these options: "/<signature>/<path>", or "unsafe/<path>" (no leading "/", as libthumbor). */
  thumborPath(options: ThumborOptions): string;
  /** `baseUrl` + "/" + the thumbor path. */
  thumborUrl(options: ThumborOptions): string;
  /** `baseUrl` + the original's path + `?d=WxH` (a side of 0 = proportional). */
  dimensionsUrl(key: string, width: number, height?: number): string;
}

/** The builder refused options: `message` says which and why. */
export class UrlBuilderError extends Error {
  override name = "UrlBuilderError";
}

/** The thumbor image for a bucket key (relative to `thumbor.pathPrefix`): thumbor decodes it once, so it is quoted once. */
export function imagePathForKey(key: string): string {
  return quoteLikePython(key);
}

export function createUrlBuilder(options: UrlBuilderOptions = {}): UrlBuilder {
  const { baseUrl = "", key, unsafe = false } = options;
  if (unsafe && key !== undefined) throw new UrlBuilderError("give either a key (signed URLs) or unsafe: true, not both");
  if (!unsafe && (key === undefined || key.length === 0))
    throw new UrlBuilderError("signed URLs need the stack's securityKey (key), or unsafe: true");
  const settings = stackSettings(options.stack ?? {});
  const planner = createRequestPlanner(settings);
  const base = baseUrl.replace(/\/+$/, "");

  function thumborPath(o: ThumborOptions): string {
    const path = spellThumborPath(o);
    checkUrlText(path, "the URL");
    checkReadsBack(path, o);
    for (const f of o.filters ?? []) checkFilter(f);
    checkEdgeAccepts(planner, settings, `/unsafe/${path}`, "");
    return unsafe ? `unsafe/${path}` : `/${signThumborPath(key!, path)}/${path}`;
  }

  function dimensionsUrl(originalKey: string, width: number, height = 0): string {
    for (const [side, n] of [
      ["width", width],
      ["height", height],
    ] as const) {
      if (!Number.isInteger(n) || n < 0 || n > 99_999) throw new UrlBuilderError(`${side} must be a whole number of pixels, got ${n}`);
    }
    try {
      checkOriginalKey(originalKey);
    } catch (err) {
      throw new UrlBuilderError(`the edge would answer 400: ${reasonOf(err)}`);
    }
    const uri = variantKeyToUri(originalKey);
    if (!isRoutedAsOriginal(planner, uri)) {
      throw new UrlBuilderError(
        `the path of "${clip(originalKey)}" is read as a thumbor URL or a variant key, not as an original: its first segment is reserved`,
      );
    }
    const query = `d=${width}x${height}`;
    checkEdgeAccepts(planner, settings, uri, query);
    return `${base}${uri}?${query}`;
  }

  return { thumborPath, thumborUrl: (o) => `${base}/${thumborPath(o).replace(/^\//, "")}`, dimensionsUrl };
}

function stackSettings(rules: StackRules): Settings {
  const picked = {
    maxWidth: rules.maxWidth ?? DEFAULT_SETTINGS.maxWidth,
    maxHeight: rules.maxHeight ?? DEFAULT_SETTINGS.maxHeight,
    sizes: rules.sizes ?? DEFAULT_SETTINGS.sizes,
    variantPrefix: rules.variantPrefix ?? DEFAULT_SETTINGS.variantPrefix,
    // The builder checks with unsafe URLs allowed and strict filters, the strictest reading.
    thumbor: { ...rules.thumbor, allowUnsafe: true, strictFilters: true },
  };
  try {
    return validateSettings(picked, "url builder stack rules");
  } catch (err) {
    throw new UrlBuilderError((err as Error).message);
  }
}

/** libthumbor's `get_url_parts` joined by "/", plus the image: the string that is signed. */
function spellThumborPath(o: ThumborOptions): string {
  if (typeof o.image !== "string" || o.image === "") throw new UrlBuilderError("image is required (the image path as it goes in the URL)");
  const parts: string[] = [];
  if (o.debug) parts.push("debug");
  if (o.meta) parts.push("meta");
  const trim = trimPart(o.trim);
  if (trim) parts.push(trim);
  const crop = cropPart(o.crop);
  if (crop) parts.push(crop);
  const width = dimension("width", o.width);
  const height = dimension("height", o.height);
  if (o.fit !== undefined) {
    if (!FIT_PARTS.has(o.fit)) throw new UrlBuilderError(`fit must be one of ${[...FIT_PARTS].join(", ")}, got ${JSON.stringify(o.fit)}`);
    // libthumbor's own refusal: a fit box needs a side.
    if (!width && !height) throw new UrlBuilderError(`${o.fit} needs a width and/or a height`);
    parts.push(o.fit);
  }
  if (width || height || o.flipHorizontal || o.flipVertical) {
    parts.push(`${o.flipHorizontal ? "-" : ""}${width}x${o.flipVertical ? "-" : ""}${height}`);
  }
  parts.push(...alignmentParts(o.halign, o.valign));
  if (o.smart) parts.push("smart");
  if (o.filters !== undefined && o.filters.length > 0) parts.push(`filters:${o.filters.map(filterText).join(":")}`);
  parts.push(o.image);
  return parts.join("/");
}

const FIT_PARTS: ReadonlySet<string> = new Set(["fit-in", "full-fit-in", "adaptive-fit-in", "adaptive-full-fit-in"]);
const HALIGNS: readonly HAlign[] = ["left", "center", "right"];
const VALIGNS: readonly VAlign[] = ["top", "middle", "bottom"];

function trimPart(trim: ThumborOptions["trim"]): string | null {
  if (trim === undefined || trim === false) return null;
  if (trim === true) return "trim";
  const { corner, tolerance = 0 } = trim;
  if (corner !== undefined && corner !== "top-left" && corner !== "bottom-right") {
    throw new UrlBuilderError(`trim corner must be top-left or bottom-right, got ${JSON.stringify(corner)}`);
  }
  if (!Number.isSafeInteger(tolerance) || tolerance < 0)
    throw new UrlBuilderError(`trim tolerance must be a whole number from 0, got ${tolerance}`);
  // libthumbor writes `trim::5` for a tolerance without a corner, which thumbor's grammar does not read.
  if (tolerance > 0) return `trim:${corner ?? "top-left"}:${tolerance}`;
  return corner === undefined ? "trim" : `trim:${corner}`;
}

function cropPart(crop: CropBox | undefined): string | null {
  if (crop === undefined) return null;
  const sides = [crop.left, crop.top, crop.right, crop.bottom];
  if (!sides.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new UrlBuilderError(`crop sides must be whole numbers of pixels from 0, got ${JSON.stringify(crop)}`);
  }
  if (sides.every((n) => n === 0)) return null; // libthumbor leaves a zero crop out
  return `${crop.left}x${crop.top}:${crop.right}x${crop.bottom}`;
}

function dimension(side: string, value: Dimension | undefined): Dimension {
  if (value === undefined || value === "orig") return value ?? 0;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new UrlBuilderError(
      `${side} must be a whole number of pixels from 0, or "orig", got ${JSON.stringify(value)}${typeof value === "number" && value < 0 ? " (flip with flipHorizontal/flipVertical)" : ""}`,
    );
  }
  return value;
}

function alignmentParts(halign: HAlign | undefined, valign: VAlign | undefined): string[] {
  if (halign !== undefined && !HALIGNS.includes(halign))
    throw new UrlBuilderError(`halign must be one of ${HALIGNS.join(", ")}, got ${JSON.stringify(halign)}`);
  if (valign !== undefined && !VALIGNS.includes(valign))
    throw new UrlBuilderError(`valign must be one of ${VALIGNS.join(", ")}, got ${JSON.stringify(valign)}`);
  return [halign ?? "center", valign ?? "middle"].filter((a) => a !== "center" && a !== "middle");
}

/** A filter as it goes in the URL: strings as given (libthumbor), calls in thumbor syntax, percent-encoded. */
function filterText(filter: string | FilterCall): string {
  if (typeof filter === "string") return filter;
  let text: string;
  try {
    text = formatFilterCall(filter);
  } catch (err) {
    throw new UrlBuilderError(
      `filter ${clip(JSON.stringify(filter))} cannot be written in thumbor's filter syntax with these argument types (${reasonOf(err)})`,
    );
  }
  // "/" is escaped so that no ")/" inside an argument can end the filter list early.
  return encodeURIComponent(text).replace(/%2C/g, ",").replace(/%3A/g, ":").replace(/%3B/g, ";");
}

/** Characters an HTTP client would send other than as written, which would break the signature or the path. */
const URL_PATH_TEXT = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/|%]*$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

function checkUrlText(path: string, what: string): void {
  if (!URL_PATH_TEXT.test(path)) {
    const c = [...path].find((ch) => !URL_PATH_TEXT.test(ch))!;
    throw new UrlBuilderError(
      `${what} contains ${JSON.stringify(c)}, which HTTP clients do not send as written: percent-encode it (${quoteLikePython(c)})`,
    );
  }
  if (BAD_PERCENT.test(path)) throw new UrlBuilderError(`${what} has a "%" that does not start a %XX escape: write it as %25`);
  if (path.split("/").some((s) => DOT_SEGMENT.test(s))) {
    throw new UrlBuilderError(`${what} has a "." or ".." segment, which browsers remove before sending`);
  }
}

/** The URL must mean the options: thumbor's grammar reads them back, field by field. */
function checkReadsBack(path: string, o: ThumborOptions): void {
  let read: ThumborUrl;
  try {
    read = parseThumborPath(`/unsafe/${path}`);
  } catch (err) {
    throw new UrlBuilderError(`the URL is not read by thumbor's grammar: ${reasonOf(err)}`);
  }
  const trim =
    o.trim === undefined || o.trim === false
      ? null
      : o.trim === true
        ? { corner: "top-left", tolerance: 0 }
        : { corner: o.trim.corner ?? "top-left", tolerance: o.trim.tolerance ?? 0 };
  const c = o.crop;
  const crop = c && (c.left || c.top || c.right || c.bottom) ? { left: c.left, top: c.top, right: c.right, bottom: c.bottom } : null;
  const filters = o.filters !== undefined && o.filters.length > 0 ? unquoteLikePython(o.filters.map(filterText).join(":")) : null;
  const expected: Partial<Record<keyof ThumborUrl, unknown>> = {
    image: unquoteLikePython(o.image),
    filters,
    debug: !!o.debug,
    meta: !!o.meta,
    trim,
    crop,
    fitIn: o.fit !== undefined,
    full: !!o.fit?.includes("full"),
    adaptive: !!o.fit?.startsWith("adaptive"),
    width: o.width ?? 0,
    height: o.height ?? 0,
    flipHorizontal: !!o.flipHorizontal,
    flipVertical: !!o.flipVertical,
    halign: o.halign === "center" ? null : (o.halign ?? null),
    valign: o.valign === "middle" ? null : (o.valign ?? null),
    smart: !!o.smart,
  };
  for (const [field, want] of Object.entries(expected)) {
    const got = read[field as keyof ThumborUrl];
    if (JSON.stringify(got) === JSON.stringify(want)) continue;
    const hint = field === "image" || field === "filters" ? `: ${ambiguityHint(o.image)}` : "";
    throw new UrlBuilderError(`the URL would be read with ${field} ${JSON.stringify(got)} instead of ${JSON.stringify(want)}${hint}`);
  }
}

/** The usual cause of a URL that reads back wrong, and its cure. */
function ambiguityHint(image: string): string {
  const first = image.charCodeAt(0);
  const escaped = first < 0x80 ? `"%${first.toString(16).toUpperCase().padStart(2, "0")}${image.slice(1)}"` : "its first character";
  return `the image starts with text thumbor reads as an option (percent-encode it: ${clip(escaped)}), or a filter holds ")/" (percent-encode the "/")`;
}

/** One filter: exactly one call under the strict grammar, of a filter this edge applies. */
function checkFilter(filter: string | FilterCall): void {
  const text = unquoteLikePython(filterText(filter));
  let calls;
  try {
    calls = parseFilterList(text, { strict: true });
  } catch (err) {
    throw new UrlBuilderError(`filter ${JSON.stringify(clip(text))}: ${reasonOf(err)}`);
  }
  if (calls.length !== 1)
    throw new UrlBuilderError(`filter ${JSON.stringify(clip(text))} is read as ${calls.length} filters: percent-encode "):" inside it`);
  const name = calls[0]!.name;
  if (isCall(calls[0]!, "gifv"))
    throw new UrlBuilderError("filter gifv(): edge-resizer makes no video (a default thumbor ignores it; a strict stack refuses it)");
  if (!IMPLEMENTED_FILTERS.has(name) && !PLANNER_FILTERS.has(name))
    throw new UrlBuilderError(`filter ${name}() is not supported by edge-resizer`);
}

/**
 * The stack's own planner, then origin-response's key reader and image mapping, must take the
 * URL; returns the plan. (Limits on size, filter count and key length, image paths and the
 * allow-list are theirs.)
 */
function checkEdgeAccepts(planner: RequestPlanner, settings: Settings, uri: string, query: string) {
  try {
    const route = planner.plan(uri, query, undefined);
    if (route.kind !== "variant") throw new UrlBuilderError("the URL would be served as an original, not resized");
    const plan = parseVariantKey(route.key, settings);
    // Images named by filters are mapped only when origin-response renders: check them now.
    for (const call of plan.filters) {
      if (FILTERS_WITH_IMAGES.has(call.name)) filterImageKey(call.name, String(call.args[0]), settings.thumbor);
    }
    return plan;
  } catch (err) {
    if (err instanceof UrlBuilderError) throw err;
    if (isRequestError(err)) throw new UrlBuilderError(`the edge would answer ${err.status}: ${err.reason}`);
    throw err;
  }
}

/** Without `?d=`, the router serves the path untouched only when it names an original. */
function isRoutedAsOriginal(planner: RequestPlanner, uri: string): boolean {
  try {
    return planner.plan(uri, "", undefined).kind === "original";
  } catch {
    return false;
  }
}

function reasonOf(err: unknown): string {
  return isRequestError(err) ? err.reason : (err as Error).message;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}...` : s;
}
