/**
 * Is the body read the object S3 holds? A body that breaks off is caught by the client's framing
 * (s3/client.ts); this catches the rest before anything is rendered from it: a body whose length
 * is not S3's Content-Length, and bytes that are not the object's (a proxy that rewrote or cut
 * the answer consistently, a flipped bit), through the ETag when it is the object's MD5.
 *
 * S3 makes the ETag the MD5 of the bytes only for an object written in one part (PUT, POST,
 * copy) and stored unencrypted or with SSE-S3. A multipart object's ETag ends in `-<parts>`;
 * an SSE-KMS (`aws:kms`, `aws:kms:dsse`) or SSE-C object's ETag is opaque, even when it looks
 * like 32 hex digits. Those are checked for length only.
 */
import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

const MD5_ETAG = /^"?([0-9a-fA-F]{32})"?$/;

/**
 * Why `body` is not the object S3 described in `headers`, or undefined when it is.
 * `overTls`: the body is one answer that came over TLS, whose records authenticate every byte
 * between S3 and us (a proxy cannot rewrite it, a flipped bit fails the record's tag), so the
 * MD5 would check again what TLS already did, at about 1.6 ms of CPU per MB (BENCHMARKS.md); its
 * length is still checked. A body over plain HTTP (an S3-compatible server, the local edge), or
 * assembled from several answers, is checked against the MD5 too.
 */
export function bodyMismatch(headers: IncomingHttpHeaders, body: Buffer, overTls = false): string | undefined {
  const announced = headers["content-length"];
  if (announced !== undefined && Number(announced) !== body.byteLength)
    return `body of ${body.byteLength} bytes, S3 announced ${announced}`;
  if (overTls) return undefined;
  const md5 = etagMd5(headers);
  if (md5 !== undefined && createHash("md5").update(body).digest("hex") !== md5) return "body does not match its ETag (MD5)";
  return undefined;
}

/** The MD5 the ETag is (lower-case hex), or undefined when the ETag is not one. */
export function etagMd5(headers: IncomingHttpHeaders): string | undefined {
  const etag = headers.etag;
  const md5 = typeof etag === "string" ? MD5_ETAG.exec(etag)?.[1] : undefined;
  if (md5 === undefined) return undefined;
  const sse = headers["x-amz-server-side-encryption"];
  if (typeof sse === "string" && sse.startsWith("aws:kms")) return undefined;
  if (headers["x-amz-server-side-encryption-customer-algorithm"] !== undefined) return undefined;
  return md5.toLowerCase();
}
