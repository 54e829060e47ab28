/**
 * The local CloudFront distribution: for one viewer request it runs what CloudFront runs, in
 * CloudFront's order — viewer-request handler, cache lookup by the rewritten URI, on a miss a
 * GET to the S3 origin, origin-response handler — and returns the answer with `x-cache`.
 *
 * The handlers are passed in (they are the Lambda@Edge associations); S3 is a real
 * S3-compatible server reached through the AWS SDK, never a stand-in.
 */
import { GetObjectCommand, S3ServiceException, type GetObjectCommandOutput } from "@aws-sdk/client-s3";
import type { CloudFrontHeaders, CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import type { Readable } from "node:stream";
import {
  ORIGIN_RESPONSE_TIMEOUT_SECONDS,
  checkEdgeResult,
  isGeneratedResponse,
  type EdgeEventInput,
} from "../handlers/cloudfront/edge-rules.js";
import { EdgeCache, type EdgeResponse } from "./cloudfront-cache.js";
import { describeS3Error, type S3Target } from "./s3.js";
import {
  newRequestId,
  originResponseEvent,
  s3ErrorAnswer,
  setHeader,
  viewerRequestEvent,
  type Distribution,
  type OriginAnswer,
  type ViewerRequest,
} from "./events.js";

import type { OriginResponseHandler } from "../handlers/origin-response.js";
import type { ViewerRequestHandler } from "../handlers/viewer-request.js";
export type { OriginResponseHandler, ViewerRequestHandler };

/** The distribution's Lambda@Edge associations. */
export interface EdgeHandlers {
  viewerRequest: ViewerRequestHandler;
  originResponse: OriginResponseHandler;
}

/** Longest path segment a filesystem-backed S3-compatible store (s3rver, MinIO) can hold, in bytes. */
export const MAX_STORE_SEGMENT_BYTES = 255;

/**
 * A handler result CloudFront would refuse (handlers/cloudfront/edge-rules.ts): CloudFront answers 502
 * "The Lambda function result failed validation", and so does the local edge.
 */
export class EdgeValidationError extends Error {
  override name = "EdgeValidationError";
  constructor(
    readonly eventType: string,
    readonly violations: string[],
  ) {
    super(`The Lambda function result failed validation: ${violations.join("; ")}`);
  }
}

export interface EdgeStats {
  /** GETs sent to the S3 origin (cache misses that reached the origin). */
  originFetches: number;
  /** Origin-response answers that turned an S3 403/404 into a generated 200 image (a resize). */
  renders: number;
  /** PutObject calls the origin-response handler made (variants stored). */
  s3Puts: number;
  /** Handler failures and results that break a CloudFront rule (CloudFront answers 502). */
  lambdaErrors: number;
}

/** What the viewer gets, plus what the log line and the playground want to know. */
export interface EdgeAnswer {
  response: EdgeResponse;
  /** CloudFront's `x-cache` value. */
  xCache: string;
  /** Seconds in cache (for `age`); undefined when not served from cache. */
  age: number | undefined;
  requestId: string;
  /** The URI after the viewer-request handler (the cache key), or undefined if it answered itself. */
  rewrittenUri: string | undefined;
}

/** What one origin GET came to: S3's answer, or why there was none. */
type OriginFetch = { answer: OriginAnswer; s3Body: Buffer } | "unreachable" | "timeout" | "viewer gone";

export type ViewerRequestOutcome =
  { kind: "response"; response: CloudFrontResultResponse } | { kind: "request"; request: CloudFrontRequest };

export class LocalEdge {
  readonly stats: EdgeStats = { originFetches: 0, renders: 0, s3Puts: 0, lambdaErrors: 0 };

  constructor(
    private readonly handlers: EdgeHandlers,
    private readonly origin: S3Target,
    private readonly distribution: Distribution,
    readonly cache: EdgeCache,
    /** Maps a rewritten URI back to its S3 key (the handlers' `uriToKey`). */
    private readonly uriToKey: (uri: string) => string,
    private readonly logError: (line: string) => void,
    /** CloudFront's origin response timeout; a test sets a short one. */
    private readonly originResponseTimeoutMs = ORIGIN_RESPONSE_TIMEOUT_SECONDS.value * 1000,
  ) {}

  /** Runs the viewer-request handler alone: the rewritten request or its own answer. Throws EdgeValidationError as CloudFront would refuse it. */
  async viewerRequest(viewer: ViewerRequest, requestId = newRequestId()): Promise<ViewerRequestOutcome> {
    const event = viewerRequestEvent(viewer, this.distribution, requestId);
    const given: EdgeEventInput = structuredClone({ request: event.Records[0]!.cf.request });
    const result = await this.handlers.viewerRequest(event);
    const violations = checkEdgeResult("viewer-request", given, result);
    if (violations.length > 0) throw new EdgeValidationError("viewer-request", violations);
    return isGeneratedResponse(result) ? { kind: "response", response: result } : { kind: "request", request: result };
  }

  /** One viewer request; `viewerGone` fires when the viewer closes its connection first. */
  async handle(viewer: ViewerRequest, viewerGone?: AbortSignal): Promise<EdgeAnswer> {
    const requestId = newRequestId();
    let outcome: ViewerRequestOutcome;
    try {
      outcome = await this.viewerRequest(viewer, requestId);
    } catch (err) {
      return this.lambdaFailure("viewer-request", err, requestId);
    }
    if (outcome.kind === "response") {
      // CloudFront never caches what a viewer-request function answers itself.
      const response = toEdgeResponse(outcome.response, undefined);
      if (!response) return this.lambdaFailure("viewer-request", new Error("invalid generated response"), requestId);
      return { response, xCache: "LambdaGeneratedResponse from cloudfront", age: undefined, requestId, rewrittenUri: undefined };
    }
    const request = outcome.request;
    // The cache policy keys on the URI only (query strings: none), as the resizer's distribution.
    const result = await this.cache.get(request.uri, () => this.originTrip(request, requestId, viewerGone));
    return {
      response: result.response,
      xCache: `${result.outcome} from cloudfront`,
      age: result.outcome === "Hit" ? result.age : undefined,
      requestId,
      rewrittenUri: request.uri,
    };
  }

  /**
   * A cache miss: GET from S3, then the origin-response handler, which CloudFront runs on every
   * answer of the origin (200s too), decides what gets cached.
   */
  private async originTrip(request: CloudFrontRequest, requestId: string, viewerGone?: AbortSignal): Promise<EdgeResponse> {
    let key: string;
    try {
      key = this.uriToKey(request.uri);
    } catch {
      return plain(400, "the URI is not a valid object key", "no-store");
    }
    this.stats.originFetches++;
    const fetched = await this.fetchFromOrigin(key, viewerGone);
    // CloudFront answers 502 or 504 itself when the origin gives no answer; origin-response does not run.
    if (fetched === "unreachable") return plain(502, "the S3 origin could not be reached", "no-store");
    if (fetched === "timeout")
      return plain(504, `504 Gateway Timeout: the S3 origin did not answer within ${this.originResponseTimeoutMs} ms`, "no-store");
    // Nobody reads this; `no-store` sends any request that waited on this trip to make its own.
    if (fetched === "viewer gone") return plain(502, "the viewer closed the connection", "no-store");
    const { answer, s3Body } = fetched;

    let result: CloudFrontResultResponse;
    try {
      result = await this.runOriginResponse(request, answer, requestId);
    } catch (err) {
      return this.lambdaFailure("origin-response", err, requestId).response;
    }
    const passThrough = result.body === undefined && Number(result.status) === answer.status ? s3Body : undefined;
    const response = toEdgeResponse(result, passThrough);
    if (!response)
      return this.lambdaFailure(
        "origin-response",
        new Error(`invalid response status ${JSON.stringify(result.status)} or body encoding`),
        requestId,
      ).response;
    if (result.body !== undefined && response.status === 200 && answer.status !== 200) this.stats.renders++;
    return response;
  }

  /**
   * S3's answer to a GET of `key`, as CloudFront would hand it to origin-response. The GET is
   * given up (its connection closed) when S3 is silent for the origin response timeout, before
   * its headers or between parts of its body, and when the viewer has gone.
   */
  private async fetchFromOrigin(key: string, viewerGone?: AbortSignal): Promise<OriginFetch> {
    if (!storableKey(key)) {
      // S3 holds such keys; a filesystem-backed store cannot. Nothing can be there: S3's 404.
      return { answer: s3ErrorAnswer(404), s3Body: s3ErrorBody("NoSuchKey", "The specified key does not exist.") };
    }
    if (viewerGone?.aborted) return "viewer gone";
    const watch = new OriginWatch(this.originResponseTimeoutMs, viewerGone);
    try {
      const object = await this.origin.client.send(new GetObjectCommand({ Bucket: this.origin.bucket, Key: key }), {
        abortSignal: watch.signal,
      });
      const answer: OriginAnswer = { status: 200, statusDescription: "OK", headers: s3ObjectHeaders(object) };
      return { answer, s3Body: await watch.read(object.Body as Readable) };
    } catch (err) {
      if (watch.gaveUp) return watch.gaveUp;
      const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
      if (!status) {
        this.logError(`S3 origin unreachable for ${key}: ${describeS3Error(err)}`);
        return "unreachable";
      }
      const code = (err as S3ServiceException).name;
      let answer: OriginAnswer;
      if (status === 403 || status === 404) {
        answer = s3ErrorAnswer(status);
      } else {
        answer = { status, statusDescription: "Error", headers: {} };
        setHeader(answer.headers, "Content-Type", "application/xml");
        setHeader(answer.headers, "Server", "AmazonS3");
      }
      return { answer, s3Body: s3ErrorBody(code, answer.statusDescription) };
    } finally {
      watch.stop();
    }
  }

  /** The origin-response handler's result, checked as CloudFront would (throws EdgeValidationError). */
  private async runOriginResponse(request: CloudFrontRequest, answer: OriginAnswer, requestId: string): Promise<CloudFrontResultResponse> {
    const event = originResponseEvent(request, answer, this.distribution, requestId);
    const cf = event.Records[0]!.cf;
    const given: EdgeEventInput = structuredClone({ request: cf.request, response: cf.response });
    const result = await this.handlers.originResponse(event);
    const violations = checkEdgeResult("origin-response", given, result);
    if (violations.length > 0) throw new EdgeValidationError("origin-response", violations);
    return result;
  }

  private lambdaFailure(which: string, err: unknown, requestId: string): EdgeAnswer {
    this.stats.lambdaErrors++;
    if (err instanceof EdgeValidationError) {
      this.logError(`${which} result refused as CloudFront would (502): ${err.violations.join("; ")}`);
      return {
        response: plain(502, `502 Bad Gateway: ${err.message}`, "no-store"),
        xCache: "LambdaValidationError from cloudfront",
        age: undefined,
        requestId,
        rewrittenUri: undefined,
      };
    }
    this.logError(`${which} handler failed (CloudFront answers 502): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return {
      response: plain(502, "502 Bad Gateway: the Lambda function failed (see the local edge's log)", "no-store"),
      xCache: "LambdaExecutionError from cloudfront",
      age: undefined,
      requestId,
      rewrittenUri: undefined,
    };
  }
}

/** Aborts one origin GET when S3 is silent for the response timeout or the viewer goes away. */
class OriginWatch {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private body: Readable | undefined;
  /** Why the GET was given up, once it was. */
  gaveUp: "timeout" | "viewer gone" | undefined;
  private readonly onViewerGone = () => this.giveUp("viewer gone");

  constructor(
    private readonly timeoutMs: number,
    private readonly viewerGone: AbortSignal | undefined,
  ) {
    viewerGone?.addEventListener("abort", this.onViewerGone, { once: true });
    this.rearm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The whole body, the timeout restarting with every part that arrives. */
  async read(body: Readable): Promise<Buffer> {
    this.body = body;
    this.rearm();
    const chunks: Buffer[] = [];
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      this.rearm();
    }
    if (this.gaveUp) throw new Error(this.gaveUp);
    return Buffer.concat(chunks);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.viewerGone?.removeEventListener("abort", this.onViewerGone);
  }

  private rearm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.giveUp("timeout"), this.timeoutMs);
  }

  private giveUp(why: "timeout" | "viewer gone"): void {
    this.gaveUp ??= why;
    this.stop();
    this.controller.abort();
    // Closes the connection even when the SDK no longer watches the signal (the body is streaming).
    this.body?.destroy();
  }
}

/** s3rver stores an object as `<last segment>._S3rver_metadata.json` (and `._S3rver_object`) files. */
const S3RVER_SUFFIX_BYTES = "._S3rver_metadata.json".length;

/**
 * Whether a filesystem-backed store can hold `key`: no empty segment, none over 255 bytes with
 * s3rver's suffix on the last, and no "." or ".." segment (S3 keeps `x/../a.jpg` as those very
 * characters; a filesystem would resolve it to `a.jpg`, another object).
 */
export function storableKey(key: string): boolean {
  const segments = key.split("/");
  return segments.every(
    (segment, i) =>
      segment !== "" &&
      segment !== "." &&
      segment !== ".." &&
      Buffer.byteLength(segment) + (i === segments.length - 1 ? S3RVER_SUFFIX_BYTES : 0) <= MAX_STORE_SEGMENT_BYTES,
  );
}

/** The headers S3 sends with an object, in CloudFront's form. */
function s3ObjectHeaders(object: GetObjectCommandOutput): CloudFrontHeaders {
  const headers: CloudFrontHeaders = {};
  const add = (key: string, value: string | number | Date | undefined) => {
    if (value === undefined) return;
    setHeader(headers, key, value instanceof Date ? value.toUTCString() : String(value));
  };
  add("Content-Type", object.ContentType);
  add("Content-Length", object.ContentLength);
  add("ETag", object.ETag);
  add("Last-Modified", object.LastModified);
  add("Cache-Control", object.CacheControl);
  add("Content-Encoding", object.ContentEncoding);
  add("Content-Disposition", object.ContentDisposition);
  for (const [name, value] of Object.entries(object.Metadata ?? {})) add(`x-amz-meta-${name}`, value);
  add("Accept-Ranges", "bytes");
  add("Server", "AmazonS3");
  return headers;
}

/** Headers CloudFront sets itself from the body it sends (never copied from a function's answer). */
const COMPUTED_HEADERS = new Set(["content-length", "transfer-encoding", "connection"]);

/**
 * A handler's answer as bytes to send, or undefined when CloudFront would reject it (status
 * outside 200..599, base64 that is not base64). `passThroughBody` = the origin's own body.
 */
function toEdgeResponse(result: CloudFrontResultResponse, passThroughBody: Buffer | undefined): EdgeResponse | undefined {
  const status = Number(result.status);
  if (!Number.isInteger(status) || status < 200 || status > 599) return undefined;
  let body: Buffer;
  if (result.body !== undefined) {
    if (result.bodyEncoding === "base64") {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(result.body) || result.body.length % 4 !== 0) return undefined;
      body = Buffer.from(result.body, "base64");
    } else {
      body = Buffer.from(result.body, "utf8");
    }
  } else {
    body = passThroughBody ?? Buffer.alloc(0);
  }
  const headers = new Map<string, string[]>();
  for (const [name, values] of Object.entries(result.headers ?? {})) {
    if (COMPUTED_HEADERS.has(name.toLowerCase())) continue;
    headers.set(
      name.toLowerCase(),
      values.map((v) => v.value),
    );
  }
  return { status, headers, body };
}

function plain(status: number, text: string, cacheControl: string): EdgeResponse {
  return {
    status,
    headers: new Map([
      ["content-type", ["text/plain; charset=utf-8"]],
      ["cache-control", [cacheControl]],
    ]),
    body: Buffer.from(text + "\n"),
  };
}

/** The XML body S3 sends with an error. */
function s3ErrorBody(code: string, message: string): Buffer {
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}
