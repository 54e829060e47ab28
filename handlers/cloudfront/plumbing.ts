/**
 * CloudFront event plumbing shared by both handlers: header access, generated answers, and
 * loading settings.json once per cold start. Knows HTTP shapes, nothing of images.
 */
import { join } from "node:path";
import type { CloudFrontHeaders, CloudFrontResponse, CloudFrontResultResponse } from "aws-lambda";
import type { RefusalLifetime } from "../core/errors.js";
import { loadSettingsFile, type Settings } from "../core/settings.js";

/**
 * The viewer URL a variant was asked for, carried to origin-response for the large-variant
 * redirect (forwarded by the origin request policy, not part of the cache key). Not `x-edge-*`:
 * Lambda@Edge may not add headers of that family.
 */
export const VIEWER_URL_HEADER = "x-resizer-viewer-url";

export function headerValue(headers: CloudFrontHeaders | undefined, name: string): string | undefined {
  return headers?.[name]?.[0]?.value;
}

/** A short plain-text refusal with the short error cache lifetime, or the long one of a render too costly. */
export function errorResponse(
  status: number,
  reason: string,
  settings: Pick<Settings, "errorCacheControl" | "budgetErrorCacheControl">,
  lifetime: RefusalLifetime = "short",
): CloudFrontResultResponse {
  const cacheControl = lifetime === "long" ? settings.budgetErrorCacheControl : settings.errorCacheControl;
  return {
    status: String(status),
    statusDescription: STATUS_TEXT[status] ?? "Error",
    headers: {
      "content-type": [{ key: "Content-Type", value: "text/plain; charset=utf-8" }],
      "cache-control": [{ key: "Cache-Control", value: cacheControl }],
    },
    body: `${status} ${reason}\n`,
    bodyEncoding: "text",
  };
}

/**
 * Headers of the origin's response that describe the origin's own body (S3's XML error, or the
 * object): they no longer fit once a function answers with another body, so they go.
 */
const ORIGIN_BODY_HEADERS = [
  "content-type",
  "content-length",
  "content-encoding",
  "content-range",
  "content-md5",
  "content-disposition",
  "content-language",
  "etag",
  "last-modified",
  "accept-ranges",
  "expires",
];

/**
 * An origin-response answer made from the origin's response, as CloudFront requires: the
 * function may not add, change or delete `Transfer-Encoding` or `Via` there (handlers/cloudfront/edge-rules.ts),
 * so everything the origin sent stays except what described its body, and `answer`'s status,
 * headers and body replace the rest. The origin's response object is changed in place and returned.
 */
export function answerFromOrigin(origin: CloudFrontResponse, answer: CloudFrontResultResponse): CloudFrontResultResponse {
  const result = origin as CloudFrontResultResponse;
  const headers = (result.headers ??= {});
  for (const name of ORIGIN_BODY_HEADERS) if (headers[name] !== undefined) delete headers[name];
  Object.assign(headers, answer.headers);
  result.status = answer.status;
  result.statusDescription = answer.statusDescription;
  // Without a body of its own the answer would carry the origin's (S3's XML error) on to the viewer.
  result.body = answer.body ?? "";
  result.bodyEncoding = answer.bodyEncoding ?? "text";
  return result;
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  302: "Found",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Payload Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/**
 * Wraps a handler factory so the deployed function reads `settings.json` beside its bundle
 * exactly once (Lambda@Edge has no environment variables). A missing or invalid file fails the
 * first invocation with the file's path and the reason, never a silent default.
 */
export function withBundledSettings<E, R>(create: (settings: Settings) => (event: E) => Promise<R>): (event: E) => Promise<R> {
  let ready: ((event: E) => Promise<R>) | undefined;
  return (event: E) => {
    ready ??= create(loadSettingsFile(join(__dirname, "settings.json")));
    return ready(event);
  };
}
