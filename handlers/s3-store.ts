/**
 * The bucket as origin-response sees it: read an object, write a variant. The only module of
 * the handlers that speaks the S3 API.
 */
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";

export interface StoredObject {
  body: Buffer;
  contentType?: string;
}

export interface ObjectStore {
  /** The object's bytes, or null when it does not exist. Other failures throw StoreError. */
  get(bucket: string, key: string): Promise<StoredObject | null>;
  put(bucket: string, key: string, body: Buffer, contentType: string, cacheControl: string): Promise<void>;
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

export function s3ObjectStore(client: S3Client): ObjectStore {
  return {
    async get(bucket, key) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (out.ContentLength !== undefined && out.ContentLength > MAX_ORIGINAL_BYTES) {
          out.Body?.transformToWebStream().cancel().catch(() => {});
          throw new OriginalTooLargeError(`original is ${out.ContentLength} bytes, the limit is ${MAX_ORIGINAL_BYTES}`);
        }
        const bytes = await out.Body!.transformToByteArray();
        if (out.ContentLength !== undefined && bytes.byteLength !== out.ContentLength) {
          throw new StoreError(`short read of ${key}: ${bytes.byteLength} of ${out.ContentLength} bytes`);
        }
        return { body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), contentType: out.ContentType };
      } catch (err) {
        if (err instanceof OriginalTooLargeError || err instanceof StoreError) throw err;
        const status = (err as S3ServiceException).$metadata?.httpStatusCode;
        const name = (err as Error).name;
        // Without s3:ListBucket S3 answers a missing key with 403, so 403 means "missing" too.
        if (name === "NoSuchKey" || name === "NotFound" || status === 404 || status === 403) return null;
        throw new StoreError(`GET failed: ${name}${status ? ` (${status})` : ""}`);
      }
    },
    async put(bucket, key, body, contentType, cacheControl) {
      try {
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, CacheControl: cacheControl }),
        );
      } catch (err) {
        const status = (err as S3ServiceException).$metadata?.httpStatusCode;
        throw new StoreError(`PUT failed: ${(err as Error).name}${status ? ` (${status})` : ""}`);
      }
    },
  };
}

const clients = new Map<string, S3Client>();

/**
 * One client per bucket region, reused across invocations. Retries and timeouts are bounded so
 * that three attempts fit well inside Lambda@Edge's 30 s origin timeout.
 */
export function regionalS3Client(region: string): S3Client {
  let client = clients.get(region);
  if (!client) {
    client = new S3Client({
      region,
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 2000, requestTimeout: 8000 },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    clients.set(region, client);
  }
  return client;
}
