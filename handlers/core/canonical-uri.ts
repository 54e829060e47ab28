/**
 * One object, one spelling: the bucket key a request URI names, and the one URI that names a key.
 * Pure: no AWS, no HTTP objects.
 *
 * CloudFront hands viewer-request the URI as the viewer sent it (AWS Support: it normalises only to
 * match cache behaviours), forwards it to S3 as it is and keys its cache on it; an invalidation
 * path must spell the cached URI (INVALIDATION_PATHS in edge-rules.ts). S3 turns a REST path into
 * a key by percent-decoding it once, and reads a raw "+" in the path as a space. So `/%76ariants/x` and `/variants/x` are
 * one key to S3 but two entries to CloudFront, and a route table that matched the raw URI would
 * see an "original" where S3 then finds a variant key.
 *
 * The rule here: `uriToKey` decodes exactly as S3 does; `keyToUri` writes the key's one canonical
 * spelling; a URI that is not `keyToUri(uriToKey(uri))` is refused (`canonicalKeyOf`), so every
 * cached object is cached under its canonical spelling only, and that is the spelling the purge
 * invalidates.
 *
 * The canonical spelling keeps "/" as the separator and `A-Z a-z 0-9 - . _` and
 * `! $ & ' ( ) , : ; = @` as they are: CloudFront asks that invalidation paths encode non-ASCII
 * and RFC 1738's unsafe characters and nothing else (INVALIDATION_PATHS in edge-rules.ts), so the
 * spelling cached is the one an invalidation path must have. Every other UTF-8 byte is `%XX` in
 * upper case: non-ASCII, controls, the unsafe ones ("~" among them, although RFC 3986 allows it
 * raw), "?" (it would start the query), and two that CloudFront's rule would leave raw:
 * - "+", which S3 would read as a space;
 * - "*", the wildcard of an invalidation path (so only a trailing "*" is ever one).
 */
import { clipText, refusal } from "./errors.js";

/** encodeURIComponent's output, corrected: "/" and the sub-delimiters it escapes made raw, "*" and "~" escaped. */
const RESPELLED = /%2F|%24|%26|%2C|%3A|%3B|%3D|%40|[*~]/g;
const CANONICAL_FOR: Record<string, string> = {
  "%2F": "/",
  "%24": "$",
  "%26": "&",
  "%2C": ",",
  "%3A": ":",
  "%3B": ";",
  "%3D": "=",
  "%40": "@",
  "*": "%2A",
  "~": "%7E",
};
// C0 controls (NUL included), DEL and C1 controls: S3 answers some of them with a 500.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
const MAX_REASON_URI = 120;
/** Keys made only of characters the canonical spelling keeps raw (most keys): their URI is "/" + key. */
const ALL_KEPT = /^[A-Za-z0-9\-._/!$&'(),:;=@]*$/;

/** The canonical request URI of a bucket key. Throws RequestError(400) for a key that is not well-formed Unicode. */
export function keyToUri(key: string): string {
  if (ALL_KEPT.test(key)) return "/" + key;
  let encoded: string;
  try {
    encoded = encodeURIComponent(key);
  } catch {
    throw refusal(400, "path is not valid Unicode");
  }
  return "/" + encoded.replace(RESPELLED, (c) => CANONICAL_FOR[c]!);
}

/**
 * The bucket key S3 reads from a request URI: the path without its leading "/", "+" read as a
 * space, percent-decoded once as UTF-8. Throws RequestError(400) on a "%" not followed by two
 * hex digits or bytes that are not UTF-8.
 */
export function uriToKey(uri: string): string {
  const path = (uri.startsWith("/") ? uri.slice(1) : uri).replace(/\+/g, " ");
  if (!path.includes("%")) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    throw refusal(400, "malformed percent-encoding in path");
  }
}

/** Whether decoded text holds a C0 control (NUL included), DEL or a C1 control. */
export function hasControlCharacter(text: string): boolean {
  return CONTROL_CHARACTER.test(text);
}

/** Throws RequestError(400) when a key holds a control character. */
export function checkKeyCharacters(key: string): string {
  if (hasControlCharacter(key)) throw refusal(400, "path contains a control character");
  return key;
}

/**
 * The key of a URI that is the canonical spelling of its key; any other spelling of the same key
 * (other escapes, lower-case hex, "%2F", "+", raw non-ASCII) is a RequestError(400) naming the
 * canonical one, as is a key with a control character.
 */
export function canonicalKeyOf(uri: string): string {
  return checkCanonicalSpelling(uri, checkKeyCharacters(uriToKey(uri)));
}

/** `key` (what `uri` decodes to) when `uri` is its canonical spelling; else RequestError(400) naming that spelling. */
export function checkCanonicalSpelling(uri: string, key: string): string {
  const canonical = keyToUri(key);
  if (canonical !== uri)
    throw refusal(400, `path is not in canonical form; its canonical spelling is ${clipText(canonical, MAX_REASON_URI)}`);
  return key;
}

/** True when a key has a "." or ".." segment: browsers, proxies and filesystems resolve them, S3 does not. */
export function hasDotSegment(key: string): boolean {
  return key.split("/").some((segment) => segment === "." || segment === "..");
}
