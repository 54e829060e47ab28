/**
 * Python-compatible helpers: where thumbor's behaviour is defined by Python's own rounding and
 * URL quoting, these reproduce it exactly. Pure, shared by both bundles.
 */

/** Python 3 `round(x)`: nearest integer, ties to even. */
export function pyRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Python 3 `round(x, 2)` for non-negative ratios. `toFixed` already rounds the exact binary value
 * (so 2.675 → 2.67 as in Python); the only exact decimal ties at 2 places are multiples of 1/8
 * (x.125, x.375, x.625, x.875), where Python goes to even and `toFixed` goes up.
 */
export function pyRound2(x: number): number {
  if (Number.isInteger(x * 8) && !Number.isInteger(x * 4)) {
    const hundredths = Math.floor(x * 100); // x*100 = n + 0.5 exactly
    return (hundredths % 2 === 0 ? hundredths : hundredths + 1) / 100;
  }
  return Number(x.toFixed(2));
}

const UTF8_LENIENT = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Python's `urllib.parse.unquote_to_bytes(s)`: the UTF-8 bytes of `s` with every `%XX` (two hex
 * digits, either case) replaced by its byte. `+` stays `+`; a `%` not followed by two hex digits
 * stays literal (where JS's decodeURIComponent would throw).
 */
export function unquoteToBytes(s: string): Uint8Array {
  const src = Buffer.from(s, "utf8");
  const out = new Uint8Array(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0x25 && i + 2 < src.length) {
      const hi = hexValue(src[i + 1]!);
      const lo = hexValue(src[i + 2]!);
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** Python's `urllib.parse.unquote(s)`: `unquote_to_bytes`, then UTF-8 with U+FFFD for bad bytes. */
export function unquoteLikePython(s: string): string {
  return s.includes("%") ? UTF8_LENIENT.decode(unquoteToBytes(s)) : s;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

const QUOTE_NOTHING_TO_DO = /^[A-Za-z0-9_.\-~/]*$/;
const KEPT_BY_ENCODE_URI_COMPONENT_ONLY = /[!'()*]/g;

/**
 * Python's `urllib.parse.quote(s, safe='/')`: keeps `A-Z a-z 0-9 _ . - ~` and `/`, and writes
 * every other UTF-8 byte as `%XX` (upper case), including `%`, `:`, `?`, `#` and spaces.
 * That is encodeURIComponent, plus "/" kept and `! ' ( ) *` escaped. `s` must be well-formed
 * Unicode (it always is: it comes from a strict UTF-8 decode).
 */
export function quoteLikePython(s: string): string {
  if (QUOTE_NOTHING_TO_DO.test(s)) return s;
  return encodeURIComponent(s)
    .replace(/%2F/g, "/")
    .replace(KEPT_BY_ENCODE_URI_COMPONENT_ONLY, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
