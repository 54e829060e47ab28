/**
 * From thumbor's image part to the bucket key of the original.
 *
 * Teams move here from thumbor with thumbor-aws, whose loader maps the image onto a key with
 * `normalize_path`: `AWS_NORMALIZER(path)` (default `unquote(path).lstrip("/")`), then the root
 * path (`AWS_LOADER_ROOT_PATH`) joined with one "/". thumbor-aws receives `request.image_url`,
 * the image re-quoted once by thumbor, so its `unquote` gives back the image as tornado decoded
 * it: keys are percent-decoded exactly once (`my%20pic.jpg` is the key `my pic.jpg`, and
 * `my%2520pic.jpg` the key `my%20pic.jpg`). `parseThumborPath` already did that one decoding,
 * so nothing here decodes again.
 *
 * Differences from thumbor-aws, on purpose:
 * - keys never start with "/": thumbor-aws's default root "/st" makes keys like "/st/a.jpg",
 *   which S3 tools handle badly; `thumbor.pathPrefix` "st" (or "/st") gives "st/a.jpg";
 * - absolute `http(s)://host/path` images (thumbor's HTTP loader) are served from the bucket only
 *   for hosts listed in `thumbor.stripHosts`, by their path; we never fetch from other hosts;
 * - keys that could escape or confuse a key space (empty, "." or ".." segments, control
 *   characters) or not fit S3 once a variant suffix is added are refused with a 400.
 */
import { clipText, RequestError, refusal } from "./errors.js";
import type { ThumborSettings } from "./settings.js";
import { unquoteLikePython } from "./python.js";
import { hasControlCharacter } from "./canonical-uri.js";

/** Longest original key, in UTF-8 bytes: S3 allows 1024 and variant keys add their suffix. */
export const MAX_ORIGINAL_KEY_BYTES = 900;

const ABSOLUTE_URL = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;
const LEADING_SLASHES = /^\/+/;
const TRAILING_SLASHES = /\/+$/;
const RARE_CHARACTER = /[\u0000-\u001f\u007f-\u009f\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MAX_REASON_TEXT = 100;

/**
 * The bucket key of the original a thumbor image part names (`image` as parseThumborPath
 * decoded it). Throws RequestError(400) for absolute URLs of hosts not in `stripHosts` and for
 * keys checkOriginalKey refuses.
 */
export function originalKeyFromThumborImage(image: string, thumbor: Pick<ThumborSettings, "pathPrefix" | "stripHosts">): string {
  const absolute = ABSOLUTE_URL.exec(image);
  let path: string;
  if (absolute === null) {
    path = image;
  } else {
    const scheme = absolute[1]!.toLowerCase();
    const authority = absolute[2]!;
    const rest = absolute[3]!;
    if (scheme !== "http" && scheme !== "https") {
      throw new RequestError(400, `absolute image URLs are not served: scheme ${clipText(scheme, MAX_REASON_TEXT)} is not http or https`);
    }
    if (authority.includes("@")) {
      throw new RequestError(400, "absolute image URLs with user information are not served");
    }
    const host = authority.toLowerCase();
    if (!thumbor.stripHosts.some((h) => h.toLowerCase() === host)) {
      throw new RequestError(400, `absolute image URLs are not served: ${clipText(host, MAX_REASON_TEXT)} is not in thumbor.stripHosts`);
    }
    if (rest.includes("?") || rest.includes("#")) {
      // The bucket key would ignore it, so two different originals upstream would share a key.
      throw new RequestError(400, "absolute image URLs with a query string or fragment are not served");
    }
    path = rest;
  }
  const key = path.replace(LEADING_SLASHES, ""); // thumbor-aws: .lstrip("/")
  const prefix = thumbor.pathPrefix.replace(LEADING_SLASHES, "").replace(TRAILING_SLASHES, "");
  return checkOriginalKey(prefix === "" ? key : `${prefix}/${key}`);
}

/**
 * Returns `key` if it is acceptable as the key of an original (from a thumbor image or a `?d=`
 * path), else throws RequestError(400) saying what is wrong with it.
 */
export function checkOriginalKey(key: string): string {
  if (key === "") throw refusal(400, "empty image path");
  // One scan finds every rare character; the precise checks run only when there is one.
  if (RARE_CHARACTER.test(key)) {
    if (hasControlCharacter(key)) throw refusal(400, "image path contains a control character");
    if (LONE_SURROGATE.test(key)) throw refusal(400, "image path is not valid Unicode");
  }
  // A UTF-16 unit is at most 3 UTF-8 bytes: only long keys need counting.
  if (key.length * 3 > MAX_ORIGINAL_KEY_BYTES && Buffer.byteLength(key, "utf8") > MAX_ORIGINAL_KEY_BYTES) {
    throw refusal(400, `image path is longer than ${MAX_ORIGINAL_KEY_BYTES} bytes`);
  }
  for (let start = 0; start <= key.length;) {
    let end = key.indexOf("/", start);
    if (end < 0) end = key.length;
    const length = end - start;
    if (length === 0) throw refusal(400, "image path has an empty segment (a leading, trailing or double /)");
    if (length <= 2 && key.charCodeAt(start) === 0x2e && (length === 1 || key.charCodeAt(start + 1) === 0x2e)) {
      throw refusal(400, `image path has a "${key.slice(start, end)}" segment`);
    }
    start = end + 1;
  }
  return key;
}

/**
 * The bucket key of an image a filter names (watermark, frame). thumbor fetches it through its
 * loader, and thumbor-aws's loader percent-decodes the argument, which reaches it still encoded
 * once: so one more decoding (Python's unquote), then the same mapping as originals. A URL that
 * maps to no acceptable key is a 400 "<filter>: <why>".
 */
export function filterImageKey(filter: string, url: string, thumbor: Pick<ThumborSettings, "pathPrefix" | "stripHosts">): string {
  try {
    return originalKeyFromThumborImage(unquoteLikePython(url), thumbor);
  } catch (err) {
    if (err instanceof RequestError) throw new RequestError(400, `${filter}: ${err.reason}`);
    throw err;
  }
}
