/**
 * thumbor's URL signature: `base64url(HMAC-SHA1(key, signedPart))` with the `=` padding kept
 * (libthumbor.url_signers.base64_hmac_sha1, thumbor's default URL_SIGNER). 28 characters.
 *
 * `signedPart` is the raw path after "/<signature>/" exactly as sent (still percent-encoded, no
 * query string): thumbor-url.ts computes it. The key is encoded as UTF-8 like thumbor's server
 * (BaseUrlSigner). libthumbor's client `CryptoURL` encodes a str key as Latin-1 instead, so for a
 * non-ASCII key the client and the server disagree; we side with the server.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { unquoteToBytes } from "../core/python.js";

/**
 * The signature thumbor expects for `signedPart` under `key`: a string key is UTF-8 (thumbor's
 * server); bytes are used as they are (libthumbor's Latin-1 `str` keys, for compatibility).
 */
export function signThumborPath(key: string | Uint8Array, signedPart: string): string {
  if (key.length === 0) throw new Error("signThumborPath: the key is empty");
  return expectedSignature(key, signedPart).toString("latin1");
}

const URL_UNSAFE_BASE64 = /[+/]/g;

function expectedSignature(key: string | Uint8Array, signedPart: string): Buffer {
  const b64 = createHmac("sha1", key).update(signedPart, "utf8").digest("base64");
  // base64url with padding: Node's "base64url" drops the "=", thumbor keeps it.
  return Buffer.from(
    b64.replace(URL_UNSAFE_BASE64, (c) => (c === "+" ? "-" : "_")),
    "latin1",
  );
}

/**
 * True if `signature` (the percent-decoded hash segment) signs `signedPart` under any of `keys`
 * (the current key first, then retired ones: rotation). Like thumbor, the signature is
 * percent-decoded once more before the comparison, so a signature sent as `...%253D` works too.
 *
 * Every key is tried (no early exit) and each comparison is constant-time over the 28 bytes; a
 * candidate of another length is compared against itself so that the work does not depend on it
 * either: only "wrong length" can be learnt, and a correct signature's length is public.
 * An empty key list, or an empty key, never verifies.
 */
export function verifyThumborSignature(signature: string, signedPart: string, keys: readonly string[]): boolean {
  const candidate = signature.includes("%") ? Buffer.from(unquoteToBytes(signature)) : Buffer.from(signature, "utf8");
  let valid = false;
  for (const key of keys) {
    if (key === "") continue;
    const expected = expectedSignature(key, signedPart);
    const sameLength = candidate.length === expected.length;
    const equal = timingSafeEqual(sameLength ? candidate : expected, expected);
    valid = (sameLength && equal) || valid;
  }
  return valid;
}
