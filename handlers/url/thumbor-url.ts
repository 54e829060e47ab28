/**
 * thumbor's URL grammar: one raw request path in, every option thumbor would read out of it.
 *
 * thumbor (7.x, via libthumbor's `Url.regex()`) registers one tornado route; tornado appends `$`
 * and runs `re.match` on the raw `request.path` (still percent-encoded, query string removed),
 * then percent-decodes every captured group (`unquote_to_bytes`, `+` is not a space) and decodes
 * it as UTF-8 (invalid UTF-8 answers 400). `ImagingHandler.check_image` then re-quotes the image
 * with `quote(image, safe='/')`: that string (`imageUrl`) is what thumbor's loaders receive.
 *
 * This module reproduces exactly that, and nothing else: whether unsafe URLs are allowed, which
 * keys sign, what the options mean and which bucket key the image maps to are decided by the
 * callers (request-plan.ts, signature.ts, filters.ts, image-path.ts).
 *
 * Known, deliberate differences from Python's `re` (all concern input CloudFront never sends):
 * - Python's `$` also matches before one trailing "\n"; here a raw path with a newline is refused.
 * - Python's `\d` also matches non-ASCII decimal digits; raw paths are percent-encoded ASCII, so
 *   a raw non-ASCII digit simply does not count as a digit here.
 */
import { RequestError } from "../core/errors.js";
import { quoteLikePython, unquoteToBytes } from "../core/python.js";
import type { CropBox, Dimension, HAlign, TrimCorner, VAlign } from "../core/plan.js";

/**
 * libthumbor's `Url.regex()` (libthumbor/url.py:161-196), character for character. libthumbor's
 * own test (tests/test_url.py:24) asserts this exact literal; tests/url/thumbor-url.test.ts checks it.
 */
export const THUMBOR_URL_PATTERN =
  "/?(?:(?:(?P<unsafe>unsafe)|(?P<hash>.+?))/)?(?:(?P<debug>debug)/)?(?:(?P<meta>meta)/)?" +
  "(?:(?P<trim>trim(?::(?:top-left|bottom-right))?(?::\\d+)?)/)?" +
  "(?:(?P<crop_left>\\d+)x(?P<crop_top>\\d+):(?P<crop_right>\\d+)x(?P<crop_bottom>\\d+)/)?" +
  "(?:(?P<adaptive>adaptive-)?(?P<full>full-)?(?P<fit_in>fit-in)/)?" +
  "(?:(?P<horizontal_flip>-)?(?P<width>(?:\\d+|orig))?x(?P<vertical_flip>-)?(?P<height>(?:\\d+|orig))?/)?" +
  "(?:(?P<halign>left|right|center)/)?(?:(?P<valign>top|bottom|middle)/)?(?:(?P<smart>smart)/)?" +
  "(?:filters:(?P<filters>.+?\\))/)?(?P<image>.+)";

/**
 * The same pattern for JavaScript, derived mechanically so that it cannot drift: Python's
 * `(?P<name>` is JS's `(?<name>`, and Python's `.` (anything but "\n") is JS's `[^\n]` (JS's `.`
 * would also refuse "\r", U+2028 and U+2029). Anchored like tornado's `re.match(pattern + "$")`.
 * Compiled once at module load.
 */
export const THUMBOR_URL_REGEX = new RegExp("^" + THUMBOR_URL_PATTERN.replace(/\(\?P</g, "(?<").replace(/\./g, "[^\\n]") + "$");

export interface ThumborTrim {
  corner: TrimCorner;
  tolerance: number;
}

/** Everything thumbor reads from one request path, with thumbor's own decoding applied. */
export interface ThumborUrl {
  unsafe: boolean;
  /** The percent-decoded `hash` group (the signature as sent), or null for unsafe URLs. */
  signature: string | null;
  /**
   * The raw (still percent-encoded) string the signature covers: the request path without the
   * leading "/<hash>/" (or "/<quote(hash)>/"), stripped once, exactly as thumbor does. If neither
   * prefix is there, it is the whole path and no signature can match (thumbor behaves the same).
   * For unsafe URLs: the path after "unsafe/", i.e. the string a signer would sign.
   */
  signedPart: string;
  debug: boolean;
  meta: boolean;
  trim: ThumborTrim | null;
  /** Manual crop as written (source pixels, left/top/right/bottom), or null when absent. */
  crop: CropBox | null;
  fitIn: boolean;
  full: boolean;
  adaptive: boolean;
  /** 0 when empty (proportional), or the literal "orig". Never negative: "-" sets the flips. */
  width: Dimension;
  height: Dimension;
  flipHorizontal: boolean;
  flipVertical: boolean;
  /** null when absent (thumbor's default is center / middle). */
  halign: HAlign | null;
  valign: VAlign | null;
  smart: boolean;
  /** The decoded filter list (`brightness(10):contrast(5)`), or null; see filters.ts. */
  filters: string | null;
  /** The image part, percent-decoded once (`http://a.com/b.jpg`, `folder/my pic.jpg`). */
  image: string;
  /** thumbor's `request.image_url`: `image` re-quoted like Python's `quote(image, safe='/')`. */
  imageUrl: string;
}

/**
 * Parses a raw request path (percent-encoded as received, without the query string).
 * Throws RequestError(400) when the path does not match the grammar, when a group is not valid
 * UTF-8 once decoded, or when it has neither `unsafe/` nor a signature segment.
 */
export function parseThumborPath(rawPath: string): ThumborUrl {
  if (hasLoneSurrogate(rawPath)) throw new RequestError(400, "the URL is not valid Unicode");
  const m = THUMBOR_URL_REGEX.exec(rawPath);
  if (m === null) throw new RequestError(400, "not a thumbor URL: empty path or a line break in it");
  const g = m.groups!;

  // tornado decodes every group before the handler runs, so invalid UTF-8 is reported first.
  const unsafe = g.unsafe !== undefined;
  const signature = g.hash === undefined ? null : decodeGroup(g.hash, "signature");
  const filters = g.filters === undefined ? null : decodeGroup(g.filters, "filter list");
  const image = decodeGroup(g.image!, "image path");
  if (!unsafe && signature === null) throw new RequestError(400, "URL does not have hash or unsafe");

  return {
    unsafe,
    signature,
    signedPart: signature === null ? afterUnsafe(rawPath) : signedPartOf(rawPath, signature),
    debug: g.debug !== undefined,
    meta: g.meta !== undefined,
    trim: g.trim === undefined ? null : parseTrim(g.trim),
    crop:
      g.crop_left === undefined
        ? null
        : { left: Number(g.crop_left), top: Number(g.crop_top), right: Number(g.crop_right), bottom: Number(g.crop_bottom) },
    fitIn: g.fit_in !== undefined,
    full: g.full !== undefined,
    adaptive: g.adaptive !== undefined,
    width: dimension(g.width),
    height: dimension(g.height),
    flipHorizontal: g.horizontal_flip !== undefined,
    flipVertical: g.vertical_flip !== undefined,
    halign: (g.halign as HAlign | undefined) ?? null,
    valign: (g.valign as VAlign | undefined) ?? null,
    smart: g.smart !== undefined,
    filters,
    image,
    imageUrl: quoteLikePython(image),
  };
}

/**
 * thumbor's `RequestParameters`: `trim[:pos][:tolerance]` split on ":"; the position defaults to
 * top-left and the tolerance to 0. Quirk kept on purpose: `trim:10` passes the route regex with
 * pos = "10" and tolerance 0, and thumbor's C trim code treats every position other than
 * "top-left" as bottom-right.
 */
function parseTrim(raw: string): ThumborTrim {
  const parts = raw.split(":");
  const pos = parts.length > 1 ? parts[1] : "top-left";
  const tolerance = parts.length > 2 ? Number(parts[2]) : 0;
  return { corner: pos === "top-left" ? "top-left" : "bottom-right", tolerance };
}

function dimension(raw: string | undefined): Dimension {
  if (raw === undefined || raw === "") return 0;
  return raw === "orig" ? "orig" : Number(raw);
}

/**
 * thumbor's `check_image`: strips "/<hash>/", else "/<quote(hash)>/" (so `%3D` for "=" works),
 * only as the leading prefix. Replacing every occurrence (thumbor's old `str.replace`) allowed a
 * hash-injection bypass (test_base_handler_without_unsafe.py:52-85).
 */
function signedPartOf(rawPath: string, hash: string): string {
  const plain = `/${hash}/`;
  if (rawPath.startsWith(plain)) return rawPath.slice(plain.length);
  const quoted = `/${quoteLikePython(hash)}/`;
  if (rawPath.startsWith(quoted)) return rawPath.slice(quoted.length);
  return rawPath;
}

function afterUnsafe(rawPath: string): string {
  const at = rawPath.startsWith("/") ? 1 : 0;
  return rawPath.slice(at + "unsafe/".length);
}

const UTF8_STRICT = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

/** tornado's `url_unescape(v, encoding=None, plus=False)` followed by a strict UTF-8 decode. */
function decodeGroup(raw: string, what: string): string {
  if (!raw.includes("%")) return raw; // nothing to decode; the whole path was checked for lone surrogates
  try {
    // Fast path: when decodeURIComponent succeeds, every "%" had two hex digits and the bytes
    // were valid UTF-8, so its result is exactly Python's. Otherwise decode byte by byte.
    return decodeURIComponent(raw);
  } catch {
    // malformed "%" (kept literally by Python) or invalid UTF-8 (400, decided below)
  }
  try {
    return UTF8_STRICT.decode(unquoteToBytes(raw));
  } catch {
    throw new RequestError(400, `the ${what} is not valid UTF-8 once percent-decoded`);
  }
}
