/**
 * The origin-response's S3 client: signed GET and PUT of one object over node:http(s), with
 * keep-alive, timeouts and retries, and nothing else. It replaces the AWS SDK in the Lambda bundle
 * because a miss pays for every layer around two requests: the SDK's middleware, endpoint rules
 * and stream wrapping cost about three times a bare request's CPU (BENCHMARKS.md, "CPU per miss"),
 * and its modules most of the bundle's cold start. The SDK stays for everything else (purge,
 * local tools, tests), and tests check this client against it and against s3rver's signature check.
 *
 * Retries follow the SDK's standard mode: 5xx, 429 and network failures (including a body cut
 * short or a timeout) are tried again, up to `maxAttempts`, with full-jitter exponential backoff;
 * any other answer is returned to the caller as it is.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import https from "node:https";
import { finished } from "node:stream/promises";
import { EMPTY_SHA256, encodeS3Path, sha256Hex, signRequest, type Credentials } from "./sigv4.js";

export type { Credentials };

export interface S3ClientLimits {
  /** Attempts of one request, the first included. */
  maxAttempts: number;
  /** TCP connect. */
  connectionTimeoutMs: number;
  /** No byte sent or received for this long (a hung connection, a stalled body). */
  socketTimeoutMs: number;
  /** From the request to the answer's headers. */
  headersTimeoutMs: number;
}

/**
 * Worst case per request: 3 attempts x 3-5 s + backoff, about 15 s; the store's invocation budget
 * (s3/store.ts) caps the sum, so the handler always answers before Lambda@Edge's 30 s.
 */
export const S3_CLIENT_LIMITS: S3ClientLimits = {
  maxAttempts: 3,
  connectionTimeoutMs: 1_000,
  socketTimeoutMs: 3_000,
  headersTimeoutMs: 5_000,
};

export interface S3ClientOptions {
  region: string;
  /**
   * An S3-compatible server (s3rver, MinIO), addressed path-style. Default: AWS_ENDPOINT_URL_S3
   * when set (the SDK's variable), else AWS's regional endpoint.
   */
  endpoint?: string;
  /** Default: the Lambda runtime's, from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. */
  credentials?: Credentials | (() => Promise<Credentials>);
  limits?: Partial<S3ClientLimits>;
}

export interface S3Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body (for an error, S3's XML document). */
  body: Buffer;
  /** The caller's `enough` stopped the read: `body` is the first bytes only, and the connection was closed. */
  partial?: boolean;
  /** The answer came over TLS (https), which authenticated every byte of it. */
  overTls?: boolean;
}

export interface GetOptions {
  signal?: AbortSignal;
  /** A 200 or 206 whose announced length is over this throws S3BodyTooLargeError unread. */
  maxBytes?: number;
  /** An HTTP Range, e.g. `bytes=1000-`: S3 answers 206 with Content-Range. */
  range?: string;
  /** The ETag the object must still have: S3 answers 412 if it was replaced since. */
  ifMatch?: string;
  /** Further request headers, signed with it (If-None-Match: a 304 answers an unchanged object). */
  headers?: Record<string, string>;
  /**
   * Asked with the answer's headers and all of a 200 or 206 body received so far (the same
   * memory, growing): once as the headers arrive (nothing received yet), then after each chunk.
   * True stops the read there. The connection is then closed, not kept alive.
   */
  enough?: (received: Buffer, headers: IncomingHttpHeaders) => boolean;
  /** The memory a 200 or 206 body of `bytes` is read into (s3/receive-buffer.ts); default: a new buffer. */
  receiveInto?: (bytes: number) => Buffer;
}

/** A request that failed without an answer from S3 (network, timeout, refused body), after its retries. */
export class S3TransportError extends Error {
  override name = "S3TransportError";
  constructor(
    message: string,
    /** Worth another attempt (a dropped connection, a timeout); false for an abort or a refused size. */
    readonly retryable: boolean,
    /** A reused keep-alive connection that was already closed: nothing reached S3. */
    readonly staleConnection = false,
  ) {
    super(message);
  }
}

/** The answer announces a body over the caller's limit: nothing of it was read. */
export class S3BodyTooLargeError extends Error {
  override name = "S3BodyTooLargeError";
  constructor(readonly bytes: number) {
    super(`the object is ${bytes} bytes`);
  }
}

export interface Target {
  transport: typeof http | typeof https;
  host: string;
  port?: number;
  path: string;
}

/**
 * Where a request for an object goes. A custom endpoint is addressed path-style (what s3rver,
 * MinIO and the SDK with an IP endpoint do); AWS virtual-hosted style, except for bucket names
 * with dots, which TLS's wildcard certificate does not cover, and which go path-style.
 */
export function requestTarget(bucket: string, key: string, region: string, endpoint: URL | null): Target {
  if (endpoint) {
    return {
      transport: endpoint.protocol === "https:" ? https : http,
      host: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: endpoint.pathname.replace(/\/$/, "") + encodeS3Path(`/${bucket}/${key}`),
    };
  }
  const regional = `s3.${region}.amazonaws.com`;
  if (/^[a-z0-9][a-z0-9-]*[a-z0-9]$/.test(bucket))
    return { transport: https, host: `${bucket}.${regional}`, path: encodeS3Path(`/${key}`) };
  return { transport: https, host: regional, path: encodeS3Path(`/${bucket}/${key}`) };
}

export class S3HttpClient {
  readonly region: string;
  readonly limits: S3ClientLimits;
  private readonly endpoint: URL | null;
  private readonly credentials: () => Promise<Credentials>;
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  constructor(options: S3ClientOptions) {
    this.region = options.region;
    this.limits = { ...S3_CLIENT_LIMITS, ...options.limits };
    const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3;
    this.endpoint = endpoint ? new URL(endpoint) : null;
    const given = options.credentials;
    this.credentials = typeof given === "function" ? given : async () => given ?? runtimeCredentials();
  }

  /** GET of an object, or of a range of it (GetOptions). */
  get(bucket: string, key: string, options: GetOptions = {}): Promise<S3Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.range) headers.range = options.range;
    if (options.ifMatch) headers["if-match"] = options.ifMatch;
    return this.send("GET", bucket, key, null, headers, options.signal, {
      maxBytes: options.maxBytes ?? Infinity,
      enough: options.enough,
      receiveInto: options.receiveInto,
    });
  }

  put(bucket: string, key: string, body: Buffer, headers: Record<string, string>, signal?: AbortSignal): Promise<S3Answer> {
    return this.send("PUT", bucket, key, body, headers, signal, { maxBytes: Infinity });
  }

  destroy(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private async send(
    method: "GET" | "PUT",
    bucket: string,
    key: string,
    body: Buffer | null,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
    reading: Reading,
  ): Promise<S3Answer> {
    const target = requestTarget(bucket, key, this.region, this.endpoint);
    const payloadHash = body ? sha256Hex(body) : EMPTY_SHA256;
    const sent = body ? { ...headers, "content-length": String(body.byteLength) } : headers;
    let staleRetried = false;
    for (let attempt = 1; ; attempt++) {
      const signed = signRequest(
        { method, host: target.host + (target.port ? `:${target.port}` : ""), path: target.path, headers: sent, payloadHash },
        await this.credentials(),
        this.region,
        new Date(),
      );
      try {
        const answer = await this.attempt(target, method, signed, body, signal, reading);
        if (!retryableStatus(answer.status) || attempt >= this.limits.maxAttempts) return answer;
      } catch (err) {
        // A kept-alive connection the server closed while the Lambda was frozen fails on its first
        // write: that says nothing about S3, so it is tried again at once, once, on a new connection.
        if (err instanceof S3TransportError && err.staleConnection && !staleRetried) {
          staleRetried = true;
          attempt--;
          continue;
        }
        if (!(err instanceof S3TransportError && err.retryable) || attempt >= this.limits.maxAttempts) throw err;
      }
      await backoff(attempt, signal);
    }
  }

  /** One request and its whole answer, failing with a retryable S3TransportError on any timeout or broken connection. */
  private attempt(
    target: Target,
    method: string,
    headers: Record<string, string>,
    body: Buffer | null,
    signal: AbortSignal | undefined,
    reading: Reading,
  ): Promise<S3Answer> {
    const { connectionTimeoutMs, socketTimeoutMs, headersTimeoutMs } = this.limits;
    return new Promise<S3Answer>((resolve, reject) => {
      const agent = target.transport === https ? this.agents.https : this.agents.http;
      const request = target.transport.request({ host: target.host, port: target.port, path: target.path, method, headers, agent, signal });
      const fail = (message: string) => request.destroy(new S3TransportError(message, true));
      let answered = false;
      const headersTimer = setTimeout(() => fail(`no answer within ${headersTimeoutMs} ms`), headersTimeoutMs);
      request.setTimeout(socketTimeoutMs, () => fail(`connection idle for ${socketTimeoutMs} ms`));
      request.on("socket", (socket) => {
        if (!socket.connecting) return;
        const connectTimer = setTimeout(() => fail(`no connection within ${connectionTimeoutMs} ms`), connectionTimeoutMs);
        socket.once("connect", () => clearTimeout(connectTimer));
        socket.once("close", () => clearTimeout(connectTimer));
      });
      request.on("error", (err) => {
        clearTimeout(headersTimer);
        const code = (err as NodeJS.ErrnoException).code;
        const stale = request.reusedSocket && !answered && (code === "ECONNRESET" || code === "EPIPE");
        reject(stale ? new S3TransportError(`${code} on a reused connection`, true, true) : transportError(err));
      });
      request.on("response", (response) => {
        answered = true;
        clearTimeout(headersTimer);
        readAnswer(response, reading).then(
          (answer) => resolve(target.transport === https ? { ...answer, overTls: true } : answer),
          (err: unknown) => {
            request.destroy();
            reject(transportError(err));
          },
        );
      });
      request.end(body ?? undefined);
    });
  }
}

/** How an answer's body is read: its size limit, and when the caller has read enough of it. */
interface Reading {
  maxBytes: number;
  enough?: GetOptions["enough"];
  receiveInto?: (bytes: number) => Buffer;
}

const isObjectBody = (status: number) => status === 200 || status === 206;

/**
 * The answer's body in one buffer. S3 announces the length: each chunk is copied once into a
 * buffer of that size as it arrives, instead of keeping the chunks and joining them (half the
 * memory per miss, one copy less of the original).
 */
async function readAnswer(response: IncomingMessage, reading: Reading): Promise<S3Answer> {
  const status = response.statusCode ?? 0;
  const announced = Number(response.headers["content-length"]);
  const known = response.headers["content-length"] !== undefined && Number.isSafeInteger(announced);
  if (isObjectBody(status) && known && announced > reading.maxBytes) throw new S3BodyTooLargeError(announced);
  const out = known ? (isObjectBody(status) && reading.receiveInto ? reading.receiveInto(announced) : Buffer.allocUnsafe(announced)) : null;
  const enough = isObjectBody(status) && out ? reading.enough : undefined;
  const chunks: Buffer[] = [];
  let read = 0;
  let stopped = false;
  const stop = () => {
    stopped = true;
    // The rest is not wanted: the connection goes, the next request opens another.
    response.destroy();
  };
  // What the headers say (the ETag) may be enough already: then not one byte of the body is read.
  if (enough && out!.byteLength > 0 && enough(out!.subarray(0, 0), response.headers)) stop();
  response.on("data", (chunk: Buffer) => {
    if (stopped) return;
    if (out && read + chunk.byteLength > out.byteLength) {
      response.destroy(new S3TransportError(`long body: more than the announced ${announced} bytes`, true));
      return;
    }
    if (out) out.set(chunk, read);
    else chunks.push(chunk);
    read += chunk.byteLength;
    if (enough && read < out!.byteLength && enough(out!.subarray(0, read), response.headers)) stop();
  });
  try {
    await finished(response);
  } catch (err) {
    if (!stopped) throw err;
  }
  if (stopped) return { status, headers: response.headers, body: out!.subarray(0, read), partial: true };
  if (out && read !== out.byteLength) throw new S3TransportError(`short body: ${read} of ${announced} bytes`, true);
  return { status, headers: response.headers, body: out ?? Buffer.concat(chunks, read) };
}

/** Network failures are worth another attempt; an abort (the caller's budget) or a refused size is not. */
function transportError(err: unknown): Error {
  if (err instanceof S3TransportError || err instanceof S3BodyTooLargeError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e.name === "AbortError") return budgetSpent();
  return new S3TransportError(`${e.code ?? e.name}: ${e.message}`, true);
}

/** The caller's signal fired: its time budget is spent, and no retry may follow. */
function budgetSpent(): S3TransportError {
  return new S3TransportError("aborted: the S3 time budget is spent", false);
}

function retryableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/** Full jitter, as the SDK's standard retry mode: a random wait up to 100 ms x 2^attempt, capped at 20 s. */
function backoff(attempt: number, signal: AbortSignal | undefined): Promise<void> {
  const ms = Math.random() * Math.min(20_000, 100 * 2 ** attempt);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(budgetSpent());
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(budgetSpent());
      },
      { once: true },
    );
  });
}

/** The execution role's credentials, which Lambda (and Lambda@Edge) put in reserved environment variables. */
function runtimeCredentials(): Credentials {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
  if (!accessKeyId || !secretAccessKey)
    throw new S3TransportError("no AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set", false);
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** S3's error code from its XML answer (`<Code>NoSuchKey</Code>`), or undefined. */
export function s3ErrorCode(body: Buffer): string | undefined {
  return /<Code>([^<]{1,64})<\/Code>/.exec(body.subarray(0, 4096).toString("latin1"))?.[1];
}
