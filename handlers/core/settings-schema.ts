/**
 * Every handler setting, declared once (schema.ts says what an entry holds). settings.ts derives
 * the `Settings` types, `DEFAULT_SETTINGS` and the validator from it; components/stack-config.ts its
 * stack-config keys (a setting's name is its key); `npm run generate:config` Pulumi.yaml's config
 * block and the README's settings table. Top-level settings come first, the `thumbor` group last,
 * in the order the README lists them.
 */
import { DEFAULT_ORIGINAL_CONTENT_TYPES } from "./formats.js";
import type { SchemaEntry } from "./schema.js";

/** The functions that read settings.json. */
export const SETTING_READERS = ["viewer-request", "origin-response"] as const;
export type SettingReader = (typeof SETTING_READERS)[number];

/** What a handler setting adds to a schema entry. */
export type SettingEntry = SchemaEntry & {
  default: unknown;
  /** The functions whose code reads it (a test records what each handler reads). */
  readBy: readonly SettingReader[];
  /** Changes the variant key of the same URL when not the default (variant-key.ts's KeySettings). */
  variantKey?: true;
  /**
   * Not a stack-config key of its own: the component bakes in its infrastructure argument of the
   * same name (components/infra-schema.ts), so the value is given once.
   */
  bakedFromInfra?: true;
};

/** Keeps each entry's literal types (enum values, groups) while checking it is a SettingEntry. */
function defineSettings<const S extends Readonly<Record<string, SettingEntry>>>(schema: S): S {
  return schema;
}

/**
 * How `smart` positions a crop. "attention": sharp's attention strategy (closest to a thumbor
 * with face or feature detectors). "alignment": thumbor without detectors (its default
 * `DETECTORS = []`), where `smart` changes nothing and the crop stays on the alignment/focal point.
 */
export const SMART_CROP_MODES = ["attention", "alignment"] as const;
/**
 * How CMYK originals become RGB. "colour-managed": through the embedded ICC profile (libvips'
 * CMYK profile when there is none). "naive": thumbor's Pillow conversion, which ignores the
 * profile (R = (255 - K) - C·(255 - K)/255, the same for G with M and B with Y).
 */
export const CMYK_CONVERSIONS = ["colour-managed", "naive"] as const;
/**
 * Whether a miss may render from a smaller copy of a large original (intermediate.ts).
 * "auto": stored on the first miss of an original where it pays, read by later ones. "off": every
 * variant is made from the original itself.
 */
export const INTERMEDIATE_MODES = ["auto", "off"] as const;

const SIZE = /^(\d{1,5})x(\d{1,5})$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9._-]+$/;
/** An image media type, or the octet-stream types of untyped uploads; never a document type. */
const ORIGINAL_CONTENT_TYPE = /^(?:image\/[a-z0-9][a-z0-9!#$&^_.+-]*|application\/octet-stream|binary\/octet-stream)$/;
const HEALTHCHECK_PATH = /^(?:\/[A-Za-z0-9._-]+)+$/;
const PREFIX_SHAPE = "path segments of letters, digits, '.', '_' or '-' separated by '/', without leading or trailing '/'";

/** Parses one allow-list entry `WxH` into numbers; a side of 0 means proportional. */
export function parseSizeEntry(entry: string): { width: number; height: number } | undefined {
  const m = SIZE.exec(entry);
  if (!m) return undefined;
  return { width: Number(m[1]), height: Number(m[2]) };
}

function isKeyPrefix(prefix: string): boolean {
  return prefix.split("/").every((seg) => PREFIX_SEGMENT.test(seg) && seg !== "." && seg !== "..");
}

const BOTH: readonly SettingReader[] = SETTING_READERS;
const VIEWER: readonly SettingReader[] = ["viewer-request"];
const ORIGIN: readonly SettingReader[] = ["origin-response"];

export const SETTINGS_SCHEMA = defineSettings({
  /** allow-list for `?d=WxH` (`"640x0"` = width 640, proportional height; not both 0, within `maxWidth` x `maxHeight`); empty = any size up to the maximum */
  sizes: {
    readBy: VIEWER,
    type: "string[]",
    default: [],
    check(sizes, { get, fail }) {
      const maxWidth = get("maxWidth") as number;
      const maxHeight = get("maxHeight") as number;
      sizes.forEach((s, i) => {
        const size = parseSizeEntry(s);
        if (!size || (size.width === 0 && size.height === 0) || size.width > maxWidth || size.height > maxHeight)
          fail(`sizes[${i}]`, `"WxH" with W from 0 to maxWidth (${maxWidth}), H from 0 to maxHeight (${maxHeight}), not both 0`, s);
      });
    },
  },
  /** fraction of a side (0 to below 1) by which a `?d=` size may miss an allowed size and still snap to it (0.1 = 10 %) */
  sizeTolerance: { readBy: VIEWER, type: "number", default: 0, min: 0, below: 1, want: "a number from 0 (exact) to below 1" },
  /** largest output width in pixels (1-16383); larger requests answer 400 */
  maxWidth: { readBy: BOTH, type: "integer", default: 4096, min: 1, max: 16383 },
  /** largest output height in pixels (1-16383); larger requests answer 400 */
  maxHeight: { readBy: BOTH, type: "integer", default: 4096, min: 1, max: 16383 },
  /** largest original (width x height, per frame) decoded; larger originals (pixel bombs) answer 4xx before they are decoded (thumbor's `MAX_PIXELS`) */
  maxInputPixels: { readBy: BOTH, type: "integer", default: 75_000_000, min: 1, max: 1_000_000_000 },
  /** animated originals with more frames answer 400 */
  maxFrames: { readBy: ORIGIN, type: "integer", default: 200, min: 1, max: 10_000 },
  /** serve WebP when the browser's `Accept` allows it */
  autoWebp: { readBy: VIEWER, type: "boolean", default: true },
  /** serve AVIF (before WebP) when the browser's `Accept` allows it; slower to encode */
  autoAvif: { readBy: VIEWER, type: "boolean", default: false },
  /** encoder quality (1-100) when the URL gives none */
  defaultQuality: { readBy: VIEWER, type: "integer", default: 80, min: 1, max: 100 },
  /** rasterise SVG originals (never fetching external references) */
  allowSvg: { readBy: ORIGIN, type: "boolean", default: false },
  /** key prefix (path segments) under which every variant is stored, away from originals; the functions may write only there */
  variantPrefix: {
    readBy: BOTH,
    type: "string",
    default: "variants",
    variantKey: true,
    check(prefix, { path, fail }) {
      if (!isKeyPrefix(prefix)) fail(path, PREFIX_SHAPE, prefix);
    },
  },
  /** Cache-Control of every variant: `max-age` is the browsers' lifetime (a day), `s-maxage` CloudFront's (a year, purged when the original changes); read the README's "When an original changes" before adding `immutable` */
  cacheControl: {
    readBy: ORIGIN,
    type: "string",
    // Browsers re-check after a day; CloudFront keeps a year, since a changed original purges it (purgeOnChange).
    default: "public, max-age=86400, s-maxage=31536000",
  },
  /** Cache-Control of every error answer (4xx and 5xx): short, so a fixed original shows up soon */
  errorCacheControl: { readBy: BOTH, type: "string", default: "public, max-age=10" },
  /** how CMYK originals become RGB: `"colour-managed"` (through their ICC profile) or `"naive"` (thumbor's conversion, profile ignored, for byte-for-byte continuity; see [docs/thumbor-compatibility.md](docs/thumbor-compatibility.md)). `"naive"` gives every variant a new key */
  cmykConversion: { readBy: BOTH, type: "enum", values: CMYK_CONVERSIONS, default: "colour-managed", variantKey: true },
  /** `"auto"`: a progressive or large (12 MP) JPEG original over 2048 px gets a 2048 px copy (JPEG q95, 4:4:4) stored beside its variants by its first miss that decodes it at least as finely as the copy does (for a progressive one, any miss but a thumbnail its DC scans serve), so thumbnails never pay for it, and later misses that need at most that size render from it instead of decoding the original (used only when the ETag it records is the one the original's GET answers; purged with its variants). Such a miss sends the intermediate's GET at the same time as the original's (a 404 for originals that get none), so it waits for no extra round trip, and the original's read stops at its headers when the intermediate stands in; `"off"`: every variant from the original, one GET */
  intermediate: { readBy: ORIGIN, type: "enum", values: INTERMEDIATE_MODES, default: "auto" },
  /** Cache-Control of a 400/422 `too costly to render` (over the render budget, or past the render deadline): long, since a repeat would cost as much and the answer cannot change for that URL */
  budgetErrorCacheControl: { readBy: BOTH, type: "string", default: "public, max-age=600" },
  /** not set here: the component bakes in its infrastructure key of the same name (docs/deploy.md), and origin-response ends a render at half of it (a 422 `too costly to render`), keeping the other half for the GET, the PUT and the answer */
  originResponseTimeoutSeconds: { readBy: ORIGIN, type: "integer", default: 30, min: 1, max: 30, bakedFromInfra: true },
  /** content types of originals served as they are (`image/...`, or `application/octet-stream` / `binary/octet-stream` for untyped uploads); any other object (`.json`, `.html`, an SVG) answers 404. SVG is left out: add `image/svg+xml` only if you serve SVGs on purpose (the security headers keep their script from running) */
  originalContentTypes: {
    readBy: ORIGIN,
    type: "string[]",
    default: DEFAULT_ORIGINAL_CONTENT_TYPES,
    check(types, { fail }) {
      types.forEach((type, i) => {
        if (!ORIGINAL_CONTENT_TYPE.test(type))
          fail(`originalContentTypes[${i}]`, "a lower-case image/... type, application/octet-stream or binary/octet-stream", type);
      });
    },
  },
  /** key prefix (path segments) of the originals: only keys under it are served or resized, others answer 404 (e.g. `"images"` with thumbor's old bucket); `""` = the whole bucket */
  originalsPrefix: {
    readBy: BOTH,
    type: "string",
    default: "",
    allowEmpty: true,
    check(prefix, { path, get, fail }) {
      const variantPrefix = get("variantPrefix") as string;
      if (prefix !== "" && !isKeyPrefix(prefix)) fail(path, `"" or ${PREFIX_SHAPE}`, prefix);
      if (prefix === variantPrefix || prefix.startsWith(`${variantPrefix}/`))
        fail(path, `a prefix outside variantPrefix ("${variantPrefix}")`, prefix);
    },
  },
  /** path answered `200 WORKING` with `Cache-Control: no-store` by viewer-request, as thumbor's healthcheck route answers load balancers and monitors; `""` = off (the path is then an original like any other) */
  healthcheckPath: {
    readBy: VIEWER,
    type: "string",
    default: "/healthcheck",
    allowEmpty: true,
    check(p, { path, get, fail }) {
      const variantPrefix = get("variantPrefix") as string;
      if (p !== "" && (!HEALTHCHECK_PATH.test(p) || p.startsWith(`/${variantPrefix}/`)))
        fail(path, `"" (off) or a path like "/healthcheck" (segments of letters, digits, '.', '_' or '-'), outside /${variantPrefix}/`, p);
    },
  },

  /** accept `/unsafe/` thumbor URLs; switch off in production */
  allowUnsafe: {
    readBy: VIEWER,
    group: "thumbor",
    type: "boolean",
    default: true,
    check(allowUnsafe, { refuse, get }) {
      if (!allowUnsafe && get("securityKey") === "")
        refuse("thumbor.allowUnsafe is false but thumbor.securityKey is empty, so no thumbor URL could ever be served");
    },
  },
  /** HMAC-SHA1 key of signed thumbor URLs (UTF-8, as thumbor's server); set it with `pulumi config set --secret edge-resizer:securityKey`. Empty = signed URLs are refused */
  securityKey: { readBy: VIEWER, group: "thumbor", type: "string", default: "", allowEmpty: true, secret: true },
  /** older keys still accepted while clients move to `securityKey` (a rotation); set them as secrets too */
  retiredSecurityKeys: {
    readBy: VIEWER,
    group: "thumbor",
    type: "string[]",
    default: [],
    secret: true,
    check(keys, { path, fail }) {
      keys.forEach((k, i) => {
        if (k === "") fail(`${path}[${i}]`, "a non-empty string", k);
      });
    },
  },
  /** prepended to every thumbor image path to find the original in the bucket (thumbor-aws's root path) */
  pathPrefix: { readBy: BOTH, group: "thumbor", type: "string", default: "", allowEmpty: true },
  /** hosts whose absolute `http(s)://host/path` image URLs map onto bucket keys; other hosts answer 400 */
  stripHosts: { readBy: BOTH, group: "thumbor", type: "string[]", default: [] },
  /** refuse (400) unknown filters and bad filter arguments instead of ignoring them as thumbor does */
  strictFilters: { readBy: VIEWER, group: "thumbor", type: "boolean", default: false },
  /** how `smart` crops: `"attention"` (sharp's attention strategy, closest to a thumbor with detectors) or `"alignment"` (a thumbor without detectors, its default: `smart` changes nothing and leaves the key, so smart and plain URLs share one variant) */
  smartCrop: { readBy: BOTH, group: "thumbor", type: "enum", values: SMART_CROP_MODES, default: "attention", variantKey: true },
  /** thumbor's `PROGRESSIVE_JPEG`: progressive JPEG variants, or baseline ones with optimised Huffman tables (`false`: about 40 % less JPEG encode CPU per miss for files about 1 % larger). Not part of the key: switching it leaves stored variants as they are until purged */
  progressiveJpeg: { readBy: ORIGIN, group: "thumbor", type: "boolean", default: true },
});
