/**
 * CloudFront Lambda@Edge events as the real CloudFront builds them, from what the local edge
 * sees: the viewer's request line and headers, and the S3 origin's answer.
 * Shapes: AWS "Lambda@Edge event structure" (viewer-request, origin-response with an S3 origin
 * behind an Origin Access Identity).
 */
import { randomBytes } from "node:crypto";
import { VIEWER_URL_HEADER } from "../handlers/cloudfront/plumbing.js";
import type { CloudFrontHeaders, CloudFrontRequest, CloudFrontRequestEvent, CloudFrontResponseEvent } from "aws-lambda";

/** What the local distribution looks like to the handlers. */
export interface Distribution {
  domainName: string;
  distributionId: string;
  bucket: string;
  region: string;
}

export interface ViewerRequest {
  method: string;
  /** The request target as sent: path plus optional `?query`, still percent-encoded. */
  url: string;
  /** Node's `rawHeaders`: name, value, name, value… with the viewer's spelling. */
  rawHeaders: string[];
  clientIp: string;
}

/** Header names lower-cased into `{ key, value }` arrays, keeping the viewer's spelling in `key`. */
export function cloudFrontHeaders(rawHeaders: readonly string[]): CloudFrontHeaders {
  const headers: CloudFrontHeaders = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const key = rawHeaders[i]!;
    (headers[key.toLowerCase()] ??= []).push({ key, value: rawHeaders[i + 1]! });
  }
  return headers;
}

/** Splits a request target into CloudFront's `uri` and raw `querystring` (without the `?`). */
export function splitTarget(url: string): { uri: string; querystring: string } {
  const q = url.indexOf("?");
  return q < 0 ? { uri: url, querystring: "" } : { uri: url.slice(0, q), querystring: url.slice(q + 1) };
}

function config(distribution: Distribution, eventType: "viewer-request" | "origin-response", requestId: string) {
  return { distributionDomainName: distribution.domainName, distributionId: distribution.distributionId, eventType, requestId };
}

export function newRequestId(): string {
  return randomBytes(42).toString("base64url").slice(0, 56);
}

export function viewerRequestEvent(viewer: ViewerRequest, distribution: Distribution, requestId: string): CloudFrontRequestEvent {
  const { uri, querystring } = splitTarget(viewer.url);
  const request: CloudFrontRequest = {
    clientIp: viewer.clientIp,
    method: viewer.method,
    uri,
    querystring,
    headers: cloudFrontHeaders(viewer.rawHeaders),
  };
  return { Records: [{ cf: { config: config(distribution, "viewer-request", requestId), request } }] };
}

/** S3's answer to CloudFront's origin GET, as origin-response sees it (no body: Lambda@Edge never exposes it). */
export interface OriginAnswer {
  status: number;
  statusDescription: string;
  headers: CloudFrontHeaders;
}

/**
 * S3's answer to a GET of a missing key (404 with ListBucket, 403 without), with the headers S3
 * sends on it: an XML error body sent chunked, its request ids and server name.
 */
export function s3ErrorAnswer(status: 403 | 404, date = new Date()): OriginAnswer {
  const headers: CloudFrontHeaders = {};
  setHeader(headers, "x-amz-request-id", randomBytes(8).toString("hex").toUpperCase());
  setHeader(headers, "x-amz-id-2", randomBytes(48).toString("base64"));
  setHeader(headers, "Content-Type", "application/xml");
  setHeader(headers, "Transfer-Encoding", "chunked");
  setHeader(headers, "Date", date.toUTCString());
  setHeader(headers, "Server", "AmazonS3");
  return { status, statusDescription: status === 404 ? "Not Found" : "Forbidden", headers };
}

/** The deployed origin request policy forwards this header only (components/image-resizer.ts). */
export const ORIGIN_FORWARDED_HEADERS: readonly string[] = [VIEWER_URL_HEADER];

/**
 * The origin-response event for `request` (the viewer request after the viewer-request handler
 * rewrote it) answered by the S3 origin with `answer`. As on CloudFront, the origin request
 * carries only what the origin request policy forwards (`forwardHeaders`, no query string) plus
 * the headers CloudFront sets itself, so a handler that leans on a viewer header that the real
 * distribution does not forward fails here too. CloudFront's `Via` is on the origin's response as
 * well (read-only there: a handler must keep it).
 */
export function originResponseEvent(
  request: CloudFrontRequest,
  answer: OriginAnswer,
  distribution: Distribution,
  requestId: string,
  forwardHeaders: readonly string[] = ORIGIN_FORWARDED_HEADERS,
): CloudFrontResponseEvent {
  const s3Domain = `${distribution.bucket}.s3.${distribution.region}.amazonaws.com`;
  const headers: CloudFrontHeaders = {};
  for (const name of forwardHeaders) {
    const values = request.headers[name.toLowerCase()];
    if (values) headers[name.toLowerCase()] = values.map((v) => ({ ...v }));
  }
  setHeader(headers, "Host", s3Domain);
  setHeader(headers, "User-Agent", "Amazon CloudFront");
  const via = `1.1 ${distribution.domainName} (CloudFront)`;
  setHeader(headers, "Via", via);
  setHeader(headers, "X-Forwarded-For", request.clientIp);
  const originRequest: CloudFrontRequest = {
    clientIp: request.clientIp,
    method: request.method,
    uri: request.uri,
    querystring: "",
    headers,
    origin: {
      s3: { authMethod: "origin-access-identity", domainName: s3Domain, region: distribution.region, path: "", customHeaders: {} },
    },
  };
  return {
    Records: [
      {
        cf: {
          config: config(distribution, "origin-response", requestId),
          request: originRequest,
          response: {
            status: String(answer.status),
            statusDescription: answer.statusDescription,
            headers: { ...answer.headers, via: [{ key: "Via", value: via }] },
          },
        },
      },
    ],
  };
}

/** Adds one header in CloudFront's form, with its usual spelling as `key`. */
export function setHeader(headers: CloudFrontHeaders, key: string, value: string): void {
  headers[key.toLowerCase()] = [{ key, value }];
}
