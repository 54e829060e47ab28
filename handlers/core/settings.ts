/**
 * Settings: the one JSON document that configures both Lambda@Edge functions.
 *
 * Lambda@Edge has no environment variables, so the build writes `settings.json` beside each
 * bundle and the handlers read it once at cold start. A missing or invalid file is a start-up
 * error with a precise message; nothing falls back silently to a default.
 */
import { readFileSync } from "node:fs";
import { DEFAULT_ORIGINAL_CONTENT_TYPES } from "./formats.js";
import { valueChecks, type ValueChecks } from "./value-checks.js";

/**
 * How `smart` positions a crop. "attention": sharp's attention strategy (closest to a thumbor
 * with face or feature detectors). "alignment": thumbor without detectors (its default
 * `DETECTORS = []`), where `smart` changes nothing and the crop stays on the alignment/focal point.
 */
export const SMART_CROP_MODES = ["attention", "alignment"] as const;
export type SmartCropMode = (typeof SMART_CROP_MODES)[number];

/**
 * How CMYK originals become RGB. "colour-managed": through the embedded ICC profile (libvips'
 * CMYK profile when there is none). "naive": thumbor's Pillow conversion, which ignores the
 * profile (R = (255 - K) - C·(255 - K)/255, the same for G with M and B with Y).
 */
export const CMYK_CONVERSIONS = ["colour-managed", "naive"] as const;
export type CmykConversion = (typeof CMYK_CONVERSIONS)[number];

/**
 * Whether a miss may render from a smaller copy of a large original (core/intermediate.ts).
 * "auto": stored on the first miss of an original where it pays, read by later ones. "off": every
 * variant is made from the original itself.
 */
export const INTERMEDIATE_MODES = ["auto", "off"] as const;
export type IntermediateMode = (typeof INTERMEDIATE_MODES)[number];

export interface ThumborSettings {
  /** Accept `/unsafe/...` URLs. Switch off in production. */
  allowUnsafe: boolean;
  /** HMAC-SHA1 key that signs thumbor URLs (UTF-8, as thumbor's server). Empty = signed URLs are refused. */
  securityKey: string;
  /** Older keys still accepted while clients move to `securityKey` (rotation). */
  retiredSecurityKeys: string[];
  /** Prefix put in front of every thumbor image path to find the original in the bucket (thumbor-aws's root path). */
  pathPrefix: string;
  /** Hosts whose absolute `http(s)://host/path` image URLs map onto bucket keys (`path`); other hosts answer 400. */
  stripHosts: string[];
  /** Reject unknown filters and filters with invalid arguments (400) instead of ignoring them as thumbor does. */
  strictFilters: boolean;
  /** How `smart` crops (SMART_CROP_MODES). Part of the variant key when not the default. */
  smartCrop: SmartCropMode;
  /**
   * thumbor's PROGRESSIVE_JPEG: JPEG variants are progressive (true, thumbor's default) or
   * baseline with optimised Huffman tables (false: about 40 % less encode CPU, files about 1 %
   * larger; BENCHMARKS.md). Not part of the key: the picture is the same.
   */
  progressiveJpeg: boolean;
}

export interface Settings {
  /** Allow-list for `?d=WxH` (a side of 0 = proportional). Empty = any size up to the maximum. */
  sizes: string[];
  /** How far (fraction of each side, 0..1) a `?d=` size may be from an allowed size and still snap to it. */
  sizeTolerance: number;
  /** Largest output width and height; larger requests are refused (400). */
  maxWidth: number;
  maxHeight: number;
  /** Largest original (width x height, per frame) the resizer will decode; larger answers 400. */
  maxInputPixels: number;
  /** Largest number of frames of an animated original that is kept animated. */
  maxFrames: number;
  /** Prefer WebP when the browser's Accept allows it. */
  autoWebp: boolean;
  /** Prefer AVIF (before WebP) when the browser's Accept allows it. Slower to encode. */
  autoAvif: boolean;
  /** Encoder quality when the URL does not ask for one (1..100). */
  defaultQuality: number;
  /** Rasterise SVG originals. Off by default; when on, external references are never fetched. */
  allowSvg: boolean;
  /** Key prefix (one or more path segments) under which every variant is stored, away from originals. */
  variantPrefix: string;
  /**
   * Cache-Control of every variant (stored in S3 and answered to CloudFront): `max-age` is the
   * browsers' lifetime, `s-maxage` CloudFront's. CloudFront's copies are purged when an original
   * changes; browsers' copies are not, so `max-age` bounds how long a browser shows an old picture.
   */
  cacheControl: string;
  /** Cache-Control of every error answer (4xx and 5xx): short, so a fixed original shows up soon. */
  errorCacheControl: string;
  /** How CMYK originals become RGB (CMYK_CONVERSIONS). Part of the variant key when not the default. */
  cmykConversion: CmykConversion;
  /** INTERMEDIATE_MODES: variants of a large original made from a stored 2048 px copy of it ("auto"), or not ("off"). */
  intermediate: IntermediateMode;
  /**
   * Content types (lower case, no parameters) of originals served as they are; anything else
   * stored in the bucket answers 404. `image/*` types and the octet-stream types S3 gives an
   * upload without a type. Default: the image formats we read, SVG excepted (formats.ts).
   */
  originalContentTypes: string[];
  /** Key prefix (path segments) of the originals: only keys under it are served or resized. Empty = the whole bucket. */
  originalsPrefix: string;
  /**
   * Path answered 200 `WORKING` by viewer-request, as thumbor's healthcheck route answers load
   * balancers and monitors; "" switches it off (the path is then an original like any other).
   */
  healthcheckPath: string;
  /**
   * Cache-Control of a refusal "too costly to render" (over the render budget, or past the render
   * deadline): long, since a repeat would cost as much and the answer cannot change for that URL.
   */
  budgetErrorCacheControl: string;
  /**
   * The origin-response function's timeout in seconds (Lambda@Edge allows at most 30). Not set
   * by hand: the component bakes its `originResponseTimeoutSeconds` infrastructure argument in,
   * so that origin-response can end a render in time to answer for itself.
   */
  originResponseTimeoutSeconds: number;
  thumbor: ThumborSettings;
}

export const DEFAULT_SETTINGS: Settings = Object.freeze({
  sizes: [],
  sizeTolerance: 0,
  maxWidth: 4096,
  maxHeight: 4096,
  maxInputPixels: 75_000_000,
  maxFrames: 200,
  autoWebp: true,
  autoAvif: false,
  defaultQuality: 80,
  allowSvg: false,
  variantPrefix: "variants",
  // Browsers re-check after a day; CloudFront keeps a year, since a changed original purges it (purgeOnChange).
  cacheControl: "public, max-age=86400, s-maxage=31536000",
  errorCacheControl: "public, max-age=10",
  cmykConversion: "colour-managed",
  intermediate: "auto",
  originalContentTypes: [...DEFAULT_ORIGINAL_CONTENT_TYPES],
  originalsPrefix: "",
  healthcheckPath: "/healthcheck",
  budgetErrorCacheControl: "public, max-age=600",
  originResponseTimeoutSeconds: 30,
  thumbor: Object.freeze({
    allowUnsafe: true,
    securityKey: "",
    retiredSecurityKeys: [],
    pathPrefix: "",
    stripHosts: [],
    strictFilters: false,
    smartCrop: "attention",
    progressiveJpeg: true,
  }),
}) as Settings;

export class SettingsError extends Error {
  override name = "SettingsError";
}

const SIZE = /^(\d{1,5})x(\d{1,5})$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9._-]+$/;
/** An image media type, or the octet-stream types of untyped uploads; never a document type. */
const ORIGINAL_CONTENT_TYPE = /^(?:image\/[a-z0-9][a-z0-9!#$&^_.+-]*|application\/octet-stream|binary\/octet-stream)$/;
const HEALTHCHECK_PATH = /^(?:\/[A-Za-z0-9._-]+)+$/;

/** Parses one allow-list entry `WxH` into numbers; a side of 0 means proportional. */
export function parseSizeEntry(entry: string): { width: number; height: number } | undefined {
  const m = SIZE.exec(entry);
  if (!m) return undefined;
  return { width: Number(m[1]), height: Number(m[2]) };
}

/**
 * Validates a parsed settings document. Keys that are absent take their default (so a minimal
 * `{}` is valid); keys that are present must be right, and unknown keys are errors (a typo must
 * not silently become a default).
 */
export function validateSettings(input: unknown, origin = "settings"): Settings {
  const checks = valueChecks(origin, { error: (message) => new SettingsError(message), show: shownValue });
  const { fail, integer: int, boolean: bool, string: str, stringList: strList } = checks;
  if (!isObject(input)) fail("the document", "a JSON object", input);
  const doc = input as Record<string, unknown>;
  const known = new Set([...Object.keys(DEFAULT_SETTINGS), "$schema"]);
  for (const k of Object.keys(doc)) if (!known.has(k)) throw new SettingsError(`${origin}: unknown key "${k}"`);

  const pick = <K extends keyof Settings>(k: K): unknown => (k in doc ? doc[k] : DEFAULT_SETTINGS[k]);

  const maxWidth = int("maxWidth", pick("maxWidth"), 1, 16383);
  const maxHeight = int("maxHeight", pick("maxHeight"), 1, 16383);
  const sizes = strList("sizes", pick("sizes"));
  sizes.forEach((s, i) => {
    const size = parseSizeEntry(s);
    if (!size || (size.width === 0 && size.height === 0) || size.width > maxWidth || size.height > maxHeight) {
      fail(`sizes[${i}]`, `"WxH" with W from 0 to maxWidth (${maxWidth}), H from 0 to maxHeight (${maxHeight}), not both 0`, s);
    }
  });
  const sizeTolerance = pick("sizeTolerance");
  if (typeof sizeTolerance !== "number" || !(sizeTolerance >= 0 && sizeTolerance < 1))
    fail("sizeTolerance", "a number from 0 (exact) to below 1", sizeTolerance);

  const variantPrefix = str("variantPrefix", pick("variantPrefix"), false);
  if (!isKeyPrefix(variantPrefix)) fail("variantPrefix", PREFIX_SHAPE, variantPrefix);
  const cacheControl = str("cacheControl", pick("cacheControl"), false);
  const errorCacheControl = str("errorCacheControl", pick("errorCacheControl"), false);

  const thumbor = validateThumborSettings(pick("thumbor"), checks, origin);
  const originals = validateOriginals(pick("originalContentTypes"), pick("originalsPrefix"), variantPrefix, checks);
  const healthcheckPath = str("healthcheckPath", pick("healthcheckPath"), true);
  if (healthcheckPath !== "" && (!HEALTHCHECK_PATH.test(healthcheckPath) || healthcheckPath.startsWith(`/${variantPrefix}/`))) {
    fail(
      "healthcheckPath",
      `"" (off) or a path like "/healthcheck" (segments of letters, digits, '.', '_' or '-'), outside /${variantPrefix}/`,
      healthcheckPath,
    );
  }

  return {
    sizes,
    sizeTolerance: sizeTolerance as number,
    maxWidth,
    maxHeight,
    maxInputPixels: int("maxInputPixels", pick("maxInputPixels"), 1, 1_000_000_000),
    maxFrames: int("maxFrames", pick("maxFrames"), 1, 10_000),
    autoWebp: bool("autoWebp", pick("autoWebp")),
    autoAvif: bool("autoAvif", pick("autoAvif")),
    defaultQuality: int("defaultQuality", pick("defaultQuality"), 1, 100),
    allowSvg: bool("allowSvg", pick("allowSvg")),
    variantPrefix,
    cacheControl,
    errorCacheControl,
    cmykConversion: checks.oneOf("cmykConversion", pick("cmykConversion"), CMYK_CONVERSIONS),
    intermediate: checks.oneOf("intermediate", pick("intermediate"), INTERMEDIATE_MODES),
    ...originals,
    healthcheckPath,
    budgetErrorCacheControl: str("budgetErrorCacheControl", pick("budgetErrorCacheControl"), false),
    originResponseTimeoutSeconds: int("originResponseTimeoutSeconds", pick("originResponseTimeoutSeconds"), 1, 30),
    thumbor,
  };
}

const PREFIX_SHAPE = "path segments of letters, digits, '.', '_' or '-' separated by '/', without leading or trailing '/'";

function isKeyPrefix(prefix: string): boolean {
  return prefix.split("/").every((seg) => PREFIX_SEGMENT.test(seg) && seg !== "." && seg !== "..");
}

/** `originalContentTypes` and `originalsPrefix`; the originals may not live inside the variants. */
function validateOriginals(
  types: unknown,
  prefix: unknown,
  variantPrefix: string,
  checks: ValueChecks,
): Pick<Settings, "originalContentTypes" | "originalsPrefix"> {
  const originalContentTypes = checks.stringList("originalContentTypes", types);
  originalContentTypes.forEach((type, i) => {
    if (!ORIGINAL_CONTENT_TYPE.test(type))
      checks.fail(`originalContentTypes[${i}]`, "a lower-case image/... type, application/octet-stream or binary/octet-stream", type);
  });
  const originalsPrefix = checks.string("originalsPrefix", prefix, true);
  if (originalsPrefix !== "" && !isKeyPrefix(originalsPrefix)) checks.fail("originalsPrefix", `"" or ${PREFIX_SHAPE}`, originalsPrefix);
  if (originalsPrefix === variantPrefix || originalsPrefix.startsWith(`${variantPrefix}/`))
    checks.fail("originalsPrefix", `a prefix outside variantPrefix ("${variantPrefix}")`, originalsPrefix);
  return { originalContentTypes, originalsPrefix };
}

/** The `thumbor` object of a settings document, checked as validateSettings checks the rest. */
function validateThumborSettings(input: unknown, checks: ValueChecks, origin: string): ThumborSettings {
  const { fail, boolean: bool, string: str, stringList: strList } = checks;
  if (!isObject(input)) fail("thumbor", "an object", input);
  const t = input as Record<string, unknown>;
  for (const k of Object.keys(t)) if (!(k in DEFAULT_SETTINGS.thumbor)) throw new SettingsError(`${origin}: unknown key "thumbor.${k}"`);
  const tp = <K extends keyof ThumborSettings>(k: K): unknown => (k in t ? t[k] : DEFAULT_SETTINGS.thumbor[k]);
  const thumbor: ThumborSettings = {
    allowUnsafe: bool("thumbor.allowUnsafe", tp("allowUnsafe")),
    securityKey: str("thumbor.securityKey", tp("securityKey"), true),
    retiredSecurityKeys: strList("thumbor.retiredSecurityKeys", tp("retiredSecurityKeys")),
    pathPrefix: str("thumbor.pathPrefix", tp("pathPrefix"), true),
    stripHosts: strList("thumbor.stripHosts", tp("stripHosts")),
    strictFilters: bool("thumbor.strictFilters", tp("strictFilters")),
    smartCrop: checks.oneOf("thumbor.smartCrop", tp("smartCrop"), SMART_CROP_MODES),
    progressiveJpeg: bool("thumbor.progressiveJpeg", tp("progressiveJpeg")),
  };
  thumbor.retiredSecurityKeys.forEach((k, i) => {
    if (k === "") fail(`thumbor.retiredSecurityKeys[${i}]`, "a non-empty string", k);
  });
  if (!thumbor.allowUnsafe && thumbor.securityKey === "") {
    throw new SettingsError(
      `${origin}: thumbor.allowUnsafe is false but thumbor.securityKey is empty, so no thumbor URL could ever be served`,
    );
  }
  return thumbor;
}

/** Reads and validates a settings file; throws a SettingsError naming the file for any problem. */
export function loadSettingsFile(path: string): Settings {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new SettingsError(`cannot read settings file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // V8's "Unexpected token" messages quote the text around the error, which may be the key.
    const message = (err as Error).message;
    const safe = /is not valid JSON$/.test(message)
      ? "unexpected token (the parser's excerpt is not shown: it may quote a secret)"
      : message;
    throw new SettingsError(`settings file ${path} is not valid JSON: ${safe}`);
  }
  return validateSettings(doc, path);
}

/**
 * How a wrong value is shown in an error. Security keys, and the whole document (which holds
 * them), are described by type only: these messages end up in build output and CloudWatch logs.
 */
function shownValue(path: string, got: unknown): string {
  if (path === "the document" || /securitykey/i.test(path)) {
    return `${Array.isArray(got) ? "an array" : got === null ? "null" : `a ${typeof got}`} (value not shown: it may be a secret)`;
  }
  return JSON.stringify(got);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
