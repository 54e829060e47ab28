/**
 * From a viewer's request (path, query string, Accept) to the canonical variant key, or to
 * "serve the original as it is". Pure: no AWS, no HTTP objects, no sharp.
 *
 * The route is decided on the key the path names (decoded once, as S3 decodes it), never on the
 * raw spelling, so `/%76ariants/...` or `/variants%2F...` is the variant route, not an original.
 * Route table (first match wins):
 *   <healthcheckPath>[/]       thumbor's healthcheck route, answered by viewer-request itself
 *   /<variantPrefix>/*key      a variant key asked for directly (a redirect target, or a
 *                              forged key): served only if an unsigned request could have made it
 *   /unsafe/*rest              thumbor, unsigned
 *   /:signature/*rest          thumbor, signed (the first segment has the shape of a signature)
 *   /*path?d=WxH               the `?d=` API of the original Lambda@Edge sample
 *   /*path                     an original, passed through untouched
 * One object, one cached spelling (canonical-uri.ts): a direct variant key spelled otherwise is a
 * 400 (only our own redirects name them); an original or `?d=` path spelled otherwise is a 301 to
 * its canonical spelling. thumbor URLs keep thumbor's own grammar and decoding; what they are
 * rewritten to is always the canonical spelling of the variant key.
 */
import { match } from "path-to-regexp";
import { clipText, refusal } from "../core/errors.js";
import { IMPLEMENTED_FILTERS } from "../core/filter-registry.js";
import { parseFilterList } from "./filters.js";
import { checkOriginalKey, originalKeyFromThumborImage } from "../core/image-path.js";
import { unquoteLikePython } from "../core/python.js";
import { checkPlanLimits } from "../core/plan-limits.js";
import { isCall } from "../core/plan-queries.js";
import { isUnderOriginalsPrefix } from "../core/originals.js";
import { NEGOTIATED_FORMATS, isOutputFormat, type OutputFormat } from "../core/formats.js";
import { basePlan, canonicalPlan, type CropBox, type FitMode, type TransformPlan } from "../core/plan.js";
import { parseSizeEntry, type Settings } from "../core/settings.js";
import { verifyThumborSignature } from "./signature.js";
import { parseThumborPath, type ThumborUrl } from "./thumbor-url.js";
import { parseVariantKey, variantKey } from "../core/variant-key.js";
import {
  checkCanonicalSpelling,
  checkKeyCharacters,
  hasControlCharacter,
  hasDotSegment,
  keyToUri,
  uriToKey,
} from "../core/canonical-uri.js";

export type ViewerRoute =
  | { kind: "original" }
  | { kind: "healthcheck" }
  | { kind: "variant"; key: string; plan: TransformPlan }
  /** Another spelling of an original or a `?d=` path: a permanent redirect to its one canonical spelling. */
  | { kind: "respelled"; location: string };

/** A thumbor signature, decoded: URL-safe base64 of a 20-byte HMAC-SHA1, padding kept (sent as "=" or "%3D"). */
const SIGNATURE_SEGMENT = /^[A-Za-z0-9_-]{27}=$/;

/** Whether a path's first segment, decoded, makes it a thumbor URL. */
function isThumborFirstSegment(first: string): boolean {
  return first === "unsafe" || SIGNATURE_SEGMENT.test(first);
}
const D_PARAM = /(?:^|&)d=([^&]*)/;
const D_VALUE = /^(\d{1,5})(?:x(\d{1,5}))?$/;

export interface RequestPlanner {
  plan(uri: string, querystring: string, accept: string | undefined): ViewerRoute;
}

/** Compiles everything that depends on settings once (cold start), so each request only matches. */
export function createRequestPlanner(settings: Settings): RequestPlanner {
  // Long on purpose: a factory closure that is only short inner functions sharing the routes, sizes and keys compiled once above.
  // The variant folder itself names no variant: S3 would answer 404 for it anyway.
  const variantFolder = `${settings.variantPrefix}/`;
  // Matched on the decoded key, never the raw path (S3 keys are case-sensitive, so is the route).
  const variantRoute = match(`/${settings.variantPrefix}/*key`, { decode: false, sensitive: true });
  const sizes = settings.sizes.map((s) => parseSizeEntry(s)!);
  const signingKeys = [settings.thumbor.securityKey, ...settings.thumbor.retiredSecurityKeys].filter((k) => k !== "");
  const healthcheck = settings.healthcheckPath;
  // thumbor's route is `/healthcheck/?`: with or without one trailing slash.
  const isHealthcheck = (uri: string) => healthcheck !== "" && (uri === healthcheck || uri === `${healthcheck}/`);

  function plan(uri: string, querystring: string, accept: string | undefined): ViewerRoute {
    if (isHealthcheck(uri)) return { kind: "healthcheck" };
    if (!uri.startsWith("/")) throw refusal(400, "path must start with /");
    // thumbor decodes its path itself (a stray "%" stays literal); its first segment decides.
    const first = uri.slice(1, uri.indexOf("/", 1) >>> 0);
    if (isThumborFirstSegment(first.includes("%") ? unquoteLikePython(first) : first)) return thumbor(uri, accept);
    // Every other route reads the path as S3 does. Control bytes, raw or encoded: S3 answers some with a 500.
    const key = checkKeyCharacters(uriToKey(uri));
    if (key === "") throw refusal(404, "no image path");
    if (key === variantFolder) throw refusal(404, "no variant key");
    if (variantRoute(`/${key}`)) return directVariant(checkCanonicalSpelling(uri, key));
    const d = D_PARAM.exec(querystring);
    const canonical = keyToUri(key);
    if (canonical !== uri) return respelled(key, canonical, d?.[1], accept);
    if (d) return dimensions(key, d[1], accept);
    if (hasDotSegment(key)) throw refusal(400, 'image path has a "." or ".." segment');
    if (settings.originalsPrefix !== "") checkOriginal(key);
    return { kind: "original" };
  }

  /**
   * An original or `?d=` path spelled another way than its canonical spelling (browsers send
   * `~`, `[`, `|` raw; pages carry lower-case escapes): one cached spelling per object, so the
   * viewer is sent to the canonical one, once the key and the size are known to be good (a
   * redirect is never a way to reach what the canonical spelling would refuse, nor off-site:
   * checkOriginalKey refuses the empty segment a `//host` location would need).
   */
  function respelled(key: string, canonical: string, d: string | undefined, accept: string | undefined): ViewerRoute {
    checkOriginalKey(key);
    if (settings.originalsPrefix !== "") checkOriginal(key);
    if (d !== undefined) dimensions(key, d, accept);
    return { kind: "respelled", location: d === undefined ? canonical : `${canonical}?d=${d}` };
  }

  /** Keys outside `originalsPrefix` are no originals of ours: refused here, before any origin trip. */
  function checkOriginal(key: string): void {
    if (!isUnderOriginalsPrefix(key, settings)) throw refusal(404, "not an original");
  }

  function directVariant(key: string): ViewerRoute {
    const p = parseVariantKey(key, settings);
    checkOriginal(p.source);
    if (!settings.thumbor.allowUnsafe && !isDimensionsPlan(p)) {
      throw refusal(403, "this variant can only be requested through a signed URL");
    }
    checkPlanLimits(p, settings);
    return { kind: "variant", key, plan: p };
  }

  /** True when `?d=` could have produced the plan: an allowed size and nothing else. */
  function isDimensionsPlan(p: TransformPlan): boolean {
    const simple =
      !p.meta &&
      !p.trim &&
      !p.crop &&
      p.fit === "crop" &&
      !p.smart &&
      !p.flipHorizontal &&
      !p.flipVertical &&
      p.halign === "center" &&
      p.valign === "middle" &&
      p.filters.length === 0 &&
      p.quality === settings.defaultQuality &&
      typeof p.width === "number" &&
      typeof p.height === "number" &&
      (p.format === null || NEGOTIATED_FORMATS.some((f) => settings[f.setting] && f.format === p.format));
    return simple && (sizes.length === 0 || sizes.some((s) => s.width === p.width && s.height === p.height));
  }

  function dimensions(key: string, raw: string, accept: string | undefined): ViewerRoute {
    const m = D_VALUE.exec(raw);
    if (!m) throw refusal(400, `d must be WxH (e.g. d=300x200), got "${clipText(raw, 40, "…")}"`);
    const size = snapSize(Number(m[1]), m[2] === undefined ? 0 : Number(m[2]));
    const source = checkOriginalKey(key);
    const p = basePlan(source, settings.defaultQuality);
    p.width = size.width;
    p.height = size.height;
    p.format = negotiateFormat(accept);
    return variant(p);
  }

  function snapSize(width: number, height: number): { width: number; height: number } {
    if (width === 0 && height === 0) throw refusal(400, "d=0x0 asks for no size");
    if (sizes.length === 0) return { width, height };
    const tol = settings.sizeTolerance;
    const near = (want: number, allowed: number) => (allowed === 0 ? want === 0 : Math.abs(want - allowed) <= tol * allowed);
    let best: { width: number; height: number } | undefined;
    let bestDistance = Infinity;
    for (const s of sizes) {
      if (!near(width, s.width) || !near(height, s.height)) continue;
      const distance = Math.abs(width - s.width) + Math.abs(height - s.height);
      if (distance < bestDistance) [best, bestDistance] = [s, distance];
    }
    if (!best) throw refusal(400, `size ${width}x${height} is not allowed; allowed: ${settings.sizes.join(" ")}`);
    return best;
  }

  function thumbor(uri: string, accept: string | undefined): ViewerRoute {
    const url = parseThumborPath(uri);
    if (url.unsafe) {
      if (!settings.thumbor.allowUnsafe) throw refusal(403, "unsafe URLs are disabled; sign the URL");
    } else if (url.signature === null || !verifyThumborSignature(url.signature, url.signedPart, signingKeys)) {
      throw refusal(403, "bad signature");
    }
    const route = variant(planFromThumbor(url, accept));
    // The image's own control characters were refused above; these are in the options.
    if (hasControlCharacter(uri.includes("%") ? unquoteLikePython(uri) : uri)) throw refusal(400, "path contains a control character");
    return route;
  }

  function planFromThumbor(url: ThumborUrl, accept: string | undefined): TransformPlan {
    const calls = url.filters === null ? [] : parseFilterList(url.filters, { strict: settings.thumbor.strictFilters });
    // extract_focal (pre-load) swaps the image for the original inside a nested thumbor URL and
    // turns that URL's manual crop into a focal point: the same plan as focal() on that original.
    let image = url.image;
    const filters = calls.flatMap((call) => {
      // gifv() only acts when thumbor's gifv optimizer is configured (not by default): ignored,
      // like an unknown filter, unless strict.
      if (isCall(call, "gifv")) {
        if (settings.thumbor.strictFilters) throw refusal(400, "filter not supported: gifv (video output)");
        return [];
      }
      if (!isCall(call, "extract_focal")) return [call];
      const inner = extractFocalSource(url.image);
      if (!inner) return [];
      image = inner.image;
      const { left, top, right, bottom } = inner.crop;
      return parseFilterList(`focal(${left}x${top}:${right}x${bottom})`, { strict: false });
    });
    const p = basePlan(originalKeyFromThumborImage(image, settings.thumbor), settings.defaultQuality);
    p.meta = url.meta;
    p.trim = url.trim;
    p.crop = url.crop;
    p.fit = fitMode(url);
    p.width = url.width;
    p.height = url.height;
    p.flipHorizontal = url.flipHorizontal;
    p.flipVertical = url.flipVertical;
    p.halign = url.halign ?? "center";
    p.valign = url.valign ?? "middle";
    p.smart = url.smart;
    let explicitFormat: OutputFormat | null = null;
    for (const call of filters) {
      if (isCall(call, "format")) {
        // thumbor: the last format() wins; a format we cannot encode (heif) falls back to automatic choice.
        explicitFormat = isOutputFormat(String(call.args[0])) ? (call.args[0] as OutputFormat) : null;
      } else if (isCall(call, "quality")) {
        const q = Number(call.args[0]);
        p.quality = Math.min(100, Math.max(1, q));
      } else if (IMPLEMENTED_FILTERS.has(call.name)) {
        p.filters.push(call);
      } else {
        throw refusal(400, `filter not supported: ${call.name}`);
      }
    }
    p.format = explicitFormat ?? negotiateFormat(accept);
    return p;
  }

  function variant(p: TransformPlan): ViewerRoute {
    checkOriginal(p.source);
    checkPlanLimits(p, settings);
    const canonical = canonicalPlan(p);
    return { kind: "variant", key: variantKey(canonical, settings), plan: canonical };
  }

  /** AVIF (when enabled) or WebP when the browser names it in Accept with q > 0; null = the original's format. */
  function negotiateFormat(accept: string | undefined): OutputFormat | null {
    if (!accept) return null;
    return NEGOTIATED_FORMATS.find((f) => settings[f.setting] && accepts(accept, f.contentType))?.format ?? null;
  }

  return { plan };
}

/**
 * Whether an Accept header names a media type with q > 0. Only explicit types count: browsers
 * that decode WebP or AVIF say so, while `*\/*` from curl or an old client must get the original format.
 */
export function accepts(accept: string, type: string): boolean {
  const lower = accept.toLowerCase();
  let at = lower.indexOf(type);
  while (at >= 0) {
    const before = at === 0 ? "," : lower[at - 1];
    const end = at + type.length;
    const after = lower[end];
    if ((before === "," || before === " ") && (after === undefined || after === "," || after === ";" || after === " ")) {
      const entryEnd = lower.indexOf(",", end);
      const params = lower.slice(end, entryEnd < 0 ? undefined : entryEnd);
      const q = /;\s*q=([0-9.]+)/.exec(params);
      return !q || Number(q[1]) > 0;
    }
    at = lower.indexOf(type, at + 1);
  }
  return false;
}

/** How deep extract_focal looks into nested thumbor URLs (thumbor's MAX_LEVEL). */
const EXTRACT_FOCAL_MAX_LEVEL = 10;
/** thumbor strips everything up to the first "/" (scheme and host, or the thumbor host) on each level. */
const EXTRACT_FOCAL_DOMAIN = /^(?:https?:\/\/)?.*?\//;

/**
 * thumbor's extract_focal: the image is itself a thumbor URL (possibly nested, with its host);
 * the first level with a manual crop gives the inner original and the crop box. Null when
 * there is none (thumbor then ignores the filter). It reads the decoded image path, as thumbor's
 * documentation describes; thumbor 7.8 itself reads the re-quoted one, where ":" is "%3A", so its
 * crop never matches (see docs/thumbor-compatibility.md).
 */
export function extractFocalSource(image: string): { image: string; crop: CropBox } | null {
  let url = image;
  for (let level = 0; level < EXTRACT_FOCAL_MAX_LEVEL; level++) {
    url = url.replace(EXTRACT_FOCAL_DOMAIN, "");
    let inner: ThumborUrl;
    try {
      inner = parseThumborPath(url);
    } catch {
      return null;
    }
    if (inner.crop) return { image: inner.image, crop: inner.crop };
    url = inner.image;
  }
  return null;
}

function fitMode(url: ThumborUrl): FitMode {
  if (!url.fitIn) return "crop";
  return `${url.adaptive ? "adaptive-" : ""}${url.full ? "full-" : ""}fit-in` as FitMode;
}
