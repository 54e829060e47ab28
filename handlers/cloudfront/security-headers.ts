/**
 * The security headers every answer carries, as one record of lower-case header name → value:
 * the distribution's response headers policy is built from it, and so is the local edge's.
 * Pure data: no AWS, no HTTP server.
 */

/**
 * - `x-content-type-options: nosniff`: a browser takes the Content-Type as sent, so a stored
 *   object is never sniffed into HTML or script.
 * - `content-security-policy: default-src 'none'; sandbox`: opened directly, an SVG (or anything
 *   else) can load nothing and run no script; an `<img>` never runs scripts anyway.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "x-content-type-options": "nosniff",
  "content-security-policy": "default-src 'none'; sandbox",
});

/**
 * Strict-Transport-Security, sent only under the stack's own host names (aliases): browsers then
 * use HTTPS for a year. Not on CloudFront's own domain, which is not the stack's to pin.
 */
export const HSTS = "max-age=31536000";
