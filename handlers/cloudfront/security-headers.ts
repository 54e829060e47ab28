/**
 * The security headers every answer of the distribution carries: S3 hits, CloudFront hits,
 * rendered variants and refusals alike. On AWS they are a CloudFront response headers policy on
 * every cache behaviour (`responseHeadersPolicySettings` in the component builds it from these values); the local edge adds the
 * same values to every answer. One place, so the two cannot drift. Pure data.
 *
 * Why: the bucket holds what the team stored, and the image host is an origin of its own. A
 * browser that sniffs a mistyped object, or an SVG opened directly, would run script there.
 */

/** Header name (lower case) → value, for every answer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  // The stored Content-Type is the only type a browser may use: no sniffing text into HTML or script.
  "x-content-type-options": "nosniff",
  // An answer opened as a document (an SVG, or anything mistyped) runs no script, loads nothing,
  // and is sandboxed into an opaque origin. A picture opened directly still shows: it is the
  // document itself, not a resource it loads. 'unsafe-inline' styles let a browser's own page
  // around a directly opened image keep its inline styling; they allow no script.
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
});

/**
 * Strict-Transport-Security, added only when the distribution has aliases: on the team's own
 * host names it pins HTTPS for a year. The default `*.cloudfront.net` host is CloudFront's, not
 * the team's to pin. Subdomains are left alone: they may be other teams' sites.
 */
export const HSTS = "max-age=31536000";
