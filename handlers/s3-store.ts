/**
 * The bucket as origin-response sees it: read an object, write a variant. The only module of
 * the handlers that speaks the S3 API.
 */
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException, type S3ClientConfig } from "@aws-sdk/client-s3";

export interface StoredObject {
  body: Buffer;
  contentType?: string;
  /** S3's ETag of what was read (recorded on variants as their source). */
  etag?: string;
}

export interface ObjectStore {
  /** The object's bytes, or null when it does not exist. Other failures throw StoreError. */
  get(bucket: string, key: string): Promise<StoredObject | null>;
  put(
    bucket: string,
    key: string,
    body: Buffer,
    contentType: string,
    cacheControl: string,
    metadata?: Record<string, string>,
  ): Promise<void>;
}

/** S3 failed in a way retries did not fix: the handler answers 503 with a short cache lifetime. */
export class StoreError extends Error {
  override name = "StoreError";
}

/** Originals bigger than this are refused before they are read into memory. */
export const MAX_ORIGINAL_BYTES = 64 * 1024 * 1024;

export class OriginalTooLargeError extends Error {
  override name = "OriginalTooLargeError";
}

/**
 * Lambda@Edge stops an origin-facing function after 30 s and CloudFront then answers an error
 * we do not control. All the S3 work of one invocation (every attempt of every GET and of the
 * PUT) ends within this budget, counted from the store's creation, so the handler is always
 * still running to answer 503 itself, with the short error cache lifetime.
 */
export const S3_INVOCATION_BUDGET_MS = 20_000;

/**
 * Retries and timeouts of the handlers' S3 client (exported so the fault tests aim the very same
 * configuration at their fault-injecting proxy).
 *  - `socketTimeout`: no byte for 3 s (a hung connection, a stalled body) fails the attempt;
 *  - `requestTimeout` with `throwOnRequestTimeout`: headers must come within 5 s. Without the
 *    flag the SDK only logs a warning and waits forever (a fault test caught exactly that);
 *  - three attempts at most (the SDK's standard retry of 5xx, throttling and network errors).
 * Worst case per call: 3 x 3 s + backoff, about 10 s, and the invocation budget caps the sum.
 */
export const S3_CLIENT_LIMITS = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1_000, socketTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
} as const satisfies S3ClientConfig;

/** A GET whose body broke off after the SDK returned (the SDK never retries that) is read once more. */
const BODY_READ_ATTEMPTS = 2;

/** One store per invocation: its budget starts now. */
export function s3ObjectStore(client: S3Client, budgetMs: number = S3_INVOCATION_BUDGET_MS): ObjectStore {
  // Long on purpose: a factory closure of short inner functions that share one invocation's deadline.
  const deadline = Date.now() + budgetMs;
  /** Aborts a call (all its attempts, and the body it streams) when the invocation's budget is spent. */
  const budget = (what: string): AbortSignal => {
    const left = deadline - Date.now();
    if (left <= 0) throw new StoreError(`${what}: the S3 time budget of ${budgetMs} ms is spent`);
    return AbortSignal.timeout(left);
  };

  async function getOnce(bucket: string, key: string): Promise<StoredObject | null> {
    try {
      const abortSignal = budget("GET");
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal });
      if (out.ContentLength !== undefined && out.ContentLength > MAX_ORIGINAL_BYTES) {
        out.Body?.transformToWebStream()
          .cancel()
          .catch(() => {});
        throw new OriginalTooLargeError(`original is ${out.ContentLength} bytes, the limit is ${MAX_ORIGINAL_BYTES}`);
      }
      return { body: await readBody(out.Body as Readable, out.ContentLength, key), contentType: out.ContentType, etag: out.ETag };
    } catch (err) {
      if (err instanceof OriginalTooLargeError || err instanceof StoreError) throw err;
      const status = (err as S3ServiceException).$metadata?.httpStatusCode;
      const name = (err as Error).name;
      // Without s3:ListBucket S3 answers a missing key with 403, so 403 means "missing" too.
      if (name === "NoSuchKey" || name === "NotFound" || status === 404 || status === 403) return null;
      throw new StoreError(`GET failed: ${name}${status ? ` (${status})` : ""}`);
    }
  }

  return {
    async get(bucket, key) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await getOnce(bucket, key);
        } catch (err) {
          if (!(err instanceof BodyReadError) || attempt >= BODY_READ_ATTEMPTS) throw err;
        }
      }
    },
    async put(bucket, key, body, contentType, cacheControl, metadata) {
      try {
        const abortSignal = budget("PUT");
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: contentType,
            CacheControl: cacheControl,
            Metadata: metadata,
          }),
          { abortSignal },
        );
      } catch (err) {
        if (err instanceof StoreError) throw err;
        const status = (err as S3ServiceException).$metadata?.httpStatusCode;
        throw new StoreError(`PUT failed: ${(err as Error).name}${status ? ` (${status})` : ""}`);
      }
    },
  };
}

/**
 * A GET's body in one buffer. With the announced length (S3 always sends it) each chunk is copied
 * once into a buffer of that size as it arrives ('data' events: the async iterator would first
 * join the chunks it has buffered), instead of keeping the chunks and concatenating them (the
 * SDK's `transformToByteArray`): half the memory per miss and fewer copies of the original.
 */
async function readBody(body: Readable, length: number | undefined, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const out = length === undefined ? null : Buffer.allocUnsafe(length);
  let read = 0;
  body.on("data", (chunk: Buffer) => {
    if (out && read + chunk.byteLength > out.byteLength) {
      body.destroy(new BodyReadError(`long read of ${key}: more than ${length} bytes`));
      return;
    }
    if (out) out.set(chunk, read);
    else chunks.push(chunk);
    read += chunk.byteLength;
  });
  try {
    await finished(body);
  } catch (err) {
    if (err instanceof BodyReadError) throw err;
    throw new BodyReadError(`GET body of ${key} broke off: ${(err as Error).name}`);
  }
  if (!out) return Buffer.concat(chunks, read);
  if (read !== out.byteLength) throw new BodyReadError(`short read of ${key}: ${read} of ${length} bytes`);
  return out;
}

/** The body of a GET ended early or broke off: a StoreError, retried once by `get`. */
class BodyReadError extends StoreError {
  override name = "BodyReadError";
}

const clients = new Map<string, S3Client>();

/**
 * One client per bucket region, reused across invocations, with S3_CLIENT_LIMITS.
 */
export function regionalS3Client(region: string): S3Client {
  let client = clients.get(region);
  if (!client) {
    client = new S3Client({ region, ...S3_CLIENT_LIMITS });
    clients.set(region, client);
  }
  return client;
}
