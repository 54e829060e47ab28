/**
 * The bucket as origin-response sees it: read an object, write a variant. The only module of
 * the handlers that speaks the S3 API, through its own client (s3/client.ts: SigV4 over node:http).
 */
import type { IncomingHttpHeaders } from "node:http";
import { bodyMismatch } from "./body-check.js";
import { S3BodyTooLargeError, S3HttpClient, S3TransportError, s3ErrorCode, type GetOptions, type S3Answer } from "./client.js";

export interface StoredObject {
  body: Buffer;
  contentType?: string;
  /** S3's ETag of what was read (recorded on variants as their source). */
  etag?: string;
  /** Its user metadata (`x-amz-meta-*`), names without the prefix. */
  metadata: Record<string, string>;
  /**
   * Set when `enough` stopped the read and `body` is the object's first bytes only: reads the
   * rest of the same version of the object (If-Match its ETag) and gives the whole, checked
   * like any GET; if the object was replaced meanwhile, the new one read whole (null if deleted).
   */
  rest?: () => Promise<StoredObject | null>;
}

/** How a GET reads the object's body. */
export interface Reading {
  /**
   * Asked as the body arrives, with all of it received so far and the ETag of the object being
   * read (known from the answer's headers, before any of its body): true stops the read there,
   * and the answer then carries `rest`. Wait for nothing here: a caller that must know something
   * else first (the intermediate's record) answers false until it does.
   */
  enough?: (received: Buffer, etag: string | undefined) => boolean;
  /** Told the object's ETag and metadata as its answer's headers arrive, before its body is read (an object with a body). */
  onHead?: (head: Pick<StoredObject, "etag" | "metadata">) => void;
  /** The memory the body is read into (GetOptions.receiveInto). */
  receiveInto?: GetOptions["receiveInto"];
}

export interface ObjectStore {
  /** The object's bytes, or null when it does not exist. Other failures throw StoreError. */
  get(bucket: string, key: string, reading?: Reading): Promise<StoredObject | null>;
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

/** One store per invocation: its budget starts now. */
export function s3ObjectStore(client: S3HttpClient, budgetMs: number = S3_INVOCATION_BUDGET_MS): ObjectStore {
  const deadline = Date.now() + budgetMs;
  /** Aborts a call (all its attempts, and the body it streams) when the invocation's budget is spent. */
  const budget = (what: string): AbortSignal => {
    const left = deadline - Date.now();
    if (left <= 0) throw new StoreError(`${what}: the S3 time budget of ${budgetMs} ms is spent`);
    return AbortSignal.timeout(left);
  };
  /** The rest of a read `enough` stopped, from the same version; joined with its first bytes and checked as the whole object. */
  const readRest = async (bucket: string, key: string, first: S3Answer): Promise<StoredObject | null> => {
    const from = first.body.byteLength;
    const etag = header(first, "etag");
    const answer = await request("GET", () =>
      client.get(bucket, key, {
        signal: budget("GET"),
        maxBytes: MAX_ORIGINAL_BYTES,
        range: `bytes=${from}-`,
        ...(etag ? { ifMatch: etag } : {}),
      }),
    );
    // Replaced (412; 416 when the new object is shorter; an S3-compatible server that ignores
    // If-Match answers the new ETag) or deleted since the first read: the pieces would not be one
    // object, so the object is read again whole.
    if (answer.status === 412 || answer.status === 416 || isMissing(answer)) return store.get(bucket, key);
    if (answer.status !== 206) throw new StoreError(`GET of the rest failed: ${failureName(answer)}`);
    if (header(answer, "etag") !== etag) return store.get(bucket, key);
    const whole = Buffer.concat([first.body, answer.body]);
    const size = Number(header(first, "content-length"));
    const mismatch = contentRangeMismatch(answer, from, size) ?? bodyMismatch(first.headers, whole);
    if (mismatch !== undefined) throw new StoreError(`GET of the rest failed: ${mismatch}`);
    return storedObject({ ...first, body: whole, partial: false });
  };
  const read = async (bucket: string, key: string, reading: Reading = {}): Promise<StoredObject | null> => {
    const { enough, onHead, receiveInto } = reading;
    // The client asks first with nothing received, as the headers arrive (GetOptions.enough).
    const watch = (received: Buffer, headers: IncomingHttpHeaders): boolean => {
      const etag = headerValue(headers.etag);
      if (received.byteLength === 0) onHead?.({ etag, metadata: metadataOf(headers) });
      return enough?.(received, etag) ?? false;
    };
    const options: GetOptions = { ...(enough || onHead ? { enough: watch } : {}), ...(receiveInto ? { receiveInto } : {}) };
    // A body that is not the object (bodyMismatch) is read again, as the client retries a
    // broken one; after the last attempt it is a StoreError, and nothing is rendered from it.
    for (let attempt = 1; ; attempt++) {
      const answer = await request("GET", () =>
        client.get(bucket, key, { signal: budget("GET"), maxBytes: MAX_ORIGINAL_BYTES, ...options }),
      );
      if (isMissing(answer)) return null;
      if (answer.status !== 200) throw new StoreError(`GET failed: ${failureName(answer)}`);
      // A body stopped early cannot be checked yet: the whole is, once the rest is read.
      if (answer.partial) return { ...storedObject(answer), rest: () => readRest(bucket, key, answer) };
      const mismatch = bodyMismatch(answer.headers, answer.body, answer.overTls);
      if (mismatch === undefined) return storedObject(answer);
      if (attempt >= client.limits.maxAttempts) throw new StoreError(`GET failed: ${mismatch}, ${attempt} times`);
    }
  };
  const store: ObjectStore = {
    get: read,
    async put(bucket, key, body, contentType, cacheControl, metadata) {
      const headers: Record<string, string> = { "content-type": contentType, "cache-control": cacheControl };
      for (const [name, value] of Object.entries(metadata ?? {})) headers[`${METADATA_HEADER}${name}`] = value;
      const answer = await request("PUT", () => client.put(bucket, key, body, headers, budget("PUT")));
      if (answer.status !== 200) throw new StoreError(`PUT failed: ${failureName(answer)}`);
    },
  };
  return store;
}

/** Why a 206 is not the bytes from `from` to the end of an object of `size` bytes, or undefined. */
function contentRangeMismatch(answer: S3Answer, from: number, size: number): string | undefined {
  const range = header(answer, "content-range");
  const expected = `bytes ${from}-${size - 1}/${size}`;
  return range === expected ? undefined : `Content-Range ${range ?? "missing"}, expected ${expected}`;
}

/** One client call, its transport failures as StoreError (an original over the limit as OriginalTooLargeError). */
async function request(what: string, call: () => Promise<S3Answer>): Promise<S3Answer> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof S3BodyTooLargeError)
      throw new OriginalTooLargeError(`original is ${err.bytes} bytes, the limit is ${MAX_ORIGINAL_BYTES}`);
    if (err instanceof StoreError) throw err;
    throw new StoreError(`${what} failed: ${err instanceof S3TransportError ? err.message : (err as Error).name}`);
  }
}

/**
 * 404, or 403 AccessDenied: without s3:ListBucket S3 answers a missing key with 403. Any other
 * 403 (a bad signature, an expired token) is a storage failure, not a missing original.
 */
function isMissing(answer: S3Answer): boolean {
  if (answer.status === 404) return true;
  return answer.status === 403 && (s3ErrorCode(answer.body) ?? "AccessDenied") === "AccessDenied";
}

function failureName(answer: S3Answer): string {
  return `${s3ErrorCode(answer.body) ?? "HTTP error"} (${answer.status})`;
}

function storedObject(answer: S3Answer): StoredObject {
  return {
    body: answer.body,
    contentType: header(answer, "content-type"),
    etag: header(answer, "etag"),
    metadata: metadataOf(answer.headers),
  };
}

function metadataOf(headers: IncomingHttpHeaders): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (name.startsWith(METADATA_HEADER) && typeof value === "string") metadata[name.slice(METADATA_HEADER.length)] = value;
  return metadata;
}

const METADATA_HEADER = "x-amz-meta-";

function header(answer: S3Answer, name: string): string | undefined {
  return headerValue(answer.headers[name]);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

const clients = new Map<string, S3HttpClient>();

/** One client per bucket region, reused across invocations (its keep-alive connections too). */
export function regionalS3Client(region: string): S3HttpClient {
  let client = clients.get(region);
  if (!client) {
    client = new S3HttpClient({ region });
    clients.set(region, client);
  }
  return client;
}
