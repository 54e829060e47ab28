/**
 * AWS Signature Version 4 for S3 requests, header form ("Authenticating Requests: Using the
 * Authorization Header", Amazon S3 API Reference). Pure: no I/O, only hashing. S3 differs from
 * the other services in one point: the path is URI-encoded once, not twice, and never normalised
 * (a key may hold `//`, `.` or `..` segments).
 */
import { createHash, createHmac } from "node:crypto";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface RequestToSign {
  method: string;
  host: string;
  /** The path as sent, already encoded with `encodeS3Path`. */
  path: string;
  /** Headers to send and sign (names in any case); host and the x-amz-* signing headers are added. */
  headers: Record<string, string>;
  /** Hex SHA-256 of the body (EMPTY_SHA256 for none). */
  payloadHash: string;
}

export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** RFC 3986 encoding of each segment of `/bucket/key` or `/key`; `/` stays, everything but A-Z a-z 0-9 - _ . ~ is %XX (UTF-8). */
export function encodeS3Path(path: string): string {
  return path
    .split("/")
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join("/");
}

/** `20130524T000000Z`: the x-amz-date form of a time. */
export function amzDate(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

/** The headers to send: the request's own plus host, x-amz-date, x-amz-content-sha256, the session token and Authorization. */
export function signRequest(request: RequestToSign, credentials: Credentials, region: string, at: Date): Record<string, string> {
  const date = amzDate(at);
  const headers: Record<string, string> = { host: request.host, "x-amz-content-sha256": request.payloadHash, "x-amz-date": date };
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(";");
  const canonicalRequest = [
    request.method,
    request.path,
    "", // no query string: the handlers' GET and PUT have none
    ...names.map((name) => `${name}:${headers[name]!.trim().replace(/\s+/g, " ")}`),
    "",
    signedHeaders,
    request.payloadHash,
  ].join("\n");
  const scope = `${date.slice(0, 8)}/${region}/s3/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", date, scope, sha256Hex(canonicalRequest)].join("\n");
  const signature = createHmac("sha256", signingKey(credentials.secretAccessKey, date.slice(0, 8), region))
    .update(stringToSign)
    .digest("hex");
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`;
  return headers;
}

/** The day's signing key depends only on the secret, the day and the region: derived once per day. */
const signingKeys = new Map<string, Buffer>();

function signingKey(secret: string, day: string, region: string): Buffer {
  const id = `${secret}\n${day}\n${region}`;
  let key = signingKeys.get(id);
  if (!key) {
    const hmac = (k: string | Buffer, data: string) => createHmac("sha256", k).update(data).digest();
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), "s3"), "aws4_request");
    if (signingKeys.size > 16) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}
