/**
 * Lambda@Edge origin-response: runs on every answer of S3 (not on CloudFront cache hits). When
 * S3 answered the variant key with 403/404 (the variant does not exist yet), it reads the
 * original, renders the plan decoded from the key alone, stores the variant under that key and
 * answers it; every later request is a CloudFront or S3 hit. An object S3 does serve passes
 * only if it is an image of ours (passThroughAnswer).
 */
import type { CloudFrontRequest, CloudFrontResponse, CloudFrontResponseEvent, CloudFrontResultResponse } from "aws-lambda";
import { VIEWER_URL_HEADER, answerFromOrigin, errorResponse, headerValue, withBundledSettings } from "./cloudfront/plumbing.js";
import { GENERATED_RESPONSE_MAX_BYTES, generatedResponseBytes } from "./cloudfront/edge-rules.js";
import { RequestError, isRequestError } from "./core/errors.js";
import { checkOriginalKey } from "./core/image-path.js";
import { checkPlanLimits } from "./core/plan-limits.js";
import { deadlineIn, type RenderDeadline } from "./render/deadline.js";
import { WholeOriginalNeeded, renderVariant, type RenderInput, type RenderedVariant } from "./render/pipeline.js";
import { dcPrefixWatch, type PrefixVerdict } from "./render/jpeg/prefix.js";
import type { TransformPlan } from "./core/plan.js";
import type { Settings } from "./core/settings.js";
import { isUnderVariantPrefix, parseVariantKey, variantKeyToUri } from "./core/variant-key.js";
import { canonicalKeyOf, uriToKey } from "./core/canonical-uri.js";
import { SOURCE_ETAG_METADATA, normalizeEtag } from "./core/variant-source.js";
import { CONTENT_TYPES } from "./core/formats.js";
import { isServableContentType, isUnderOriginalsPrefix, mediaTypeOf } from "./core/originals.js";
import { OriginalTooLargeError, StoreError, regionalS3Client, s3ObjectStore, type ObjectStore, type Reading } from "./s3/store.js";
import {
  intermediateKey,
  intermediateMetadata,
  planMayUseIntermediate,
  readIntermediateMetadata,
  type IntermediateRecord,
} from "./core/intermediate.js";
import { intermediateServes, isIntermediateOf, makeIntermediate, renderFromIntermediate } from "./render/intermediate.js";
import type { S3HttpClient } from "./s3/client.js";
import { ReceiveBuffer } from "./s3/receive-buffer.js";

/** CloudFront refuses a generated origin response over this (headers and base64 body): larger variants are redirected to. */
const MAX_GENERATED_BYTES = GENERATED_RESPONSE_MAX_BYTES.value["origin-response"];

/**
 * The variant key a URI names as S3 read it, or undefined when it names no variant (or nothing
 * S3 could read). Throws RequestError(400) when the URI is not the canonical spelling of its key
 * (`/%76ariants/...`): only the spelling viewer-request writes renders and stores, so no other
 * spelling of a variant is ever cached.
 */
export function variantKeyOfUri(uri: string, settings: Pick<Settings, "variantPrefix">): string | undefined {
  let key: string;
  try {
    key = uriToKey(uri);
  } catch {
    return undefined;
  }
  return isUnderVariantPrefix(key, settings) ? canonicalKeyOf(uri) : undefined;
}

/**
 * How long a render may run, from the invocation's start: half the function's timeout
 * (`originResponseTimeoutSeconds`, baked into the settings by the component; Lambda@Edge allows
 * at most 30 s). The other half is for the GET before and the PUT after (the S3 work has at most
 * S3_INVOCATION_BUDGET_MS, 20 s, from the same start) and for answering the deadline's 422 itself,
 * cached with budgetErrorCacheControl: at 30 s the render ends at 15 s and the PUT keeps 5 s.
 */
export function renderDeadlineMs(settings: Pick<Settings, "originResponseTimeoutSeconds">): number {
  return (settings.originResponseTimeoutSeconds * 1000) / 2;
}

/** The largest original whose receive buffer stays mapped between invocations (s3/receive-buffer.ts). */
export const RETAINED_RECEIVE_BYTES = 32 * 1024 * 1024;

export interface OriginResponseDeps {
  /** The S3 client for a bucket region (the local edge aims it at its own S3). */
  s3Client?: (region: string) => S3HttpClient;
  /** The render's deadline, made when an invocation starts (tests inject one that runs out). */
  renderDeadline?: () => RenderDeadline;
}

export type OriginResponseHandler = (event: CloudFrontResponseEvent) => Promise<CloudFrontResultResponse>;

export function createOriginResponseHandler(settings: Settings, deps: OriginResponseDeps = {}): OriginResponseHandler {
  // Long on purpose: a factory closure of short inner functions sharing settings and the S3 client factory.
  const clientFor = deps.s3Client ?? regionalS3Client;
  const deadlineMs = renderDeadlineMs(settings);
  const startDeadline = deps.renderDeadline ?? (() => deadlineIn(deadlineMs));
  // Kept across warm invocations: the original's body is read into memory already mapped.
  const receiveBuffer = new ReceiveBuffer(RETAINED_RECEIVE_BYTES);
  return async (event) => {
    const { request, response } = event.Records[0].cf;
    if (response.status.startsWith("2")) return passThroughAnswer(request, response, settings);
    if (response.status !== "403" && response.status !== "404") return response;
    let key: string | undefined;
    try {
      key = variantKeyOfUri(request.uri, settings);
    } catch (err) {
      return answerFromOrigin(response, failureAnswer(err, request.uri));
    }
    // Originals that are missing stay S3's own answer; only variants are made here.
    if (key === undefined) return response;
    try {
      return await makeVariant(request, response, key);
    } catch (err) {
      return answerFromOrigin(response, failureAnswer(err, key));
    }
  };

  function failureAnswer(err: unknown, key: string): CloudFrontResultResponse {
    if (isRequestError(err)) return errorResponse(err.status, err.reason, settings, err.lifetime);
    if (err instanceof OriginalTooLargeError) return errorResponse(413, err.message, settings);
    if (err instanceof StoreError) {
      console.error("origin-response: storage unavailable", { key, error: err.message });
      return errorResponse(503, "storage unavailable, try again", settings);
    }
    console.error("origin-response failed", { key, error: String(err) });
    return errorResponse(500, "internal error", settings);
  }

  /** Renders, stores and answers the variant; the answer is made from S3's response (see answerFromOrigin). */
  async function makeVariant(request: CloudFrontRequest, origin: CloudFrontResponse, key: string): Promise<CloudFrontResultResponse> {
    const plan = parseVariantKey(key, settings);
    // viewer-request already refused plans over the limits; a key forged past it
    // (e.g. 5000x5000,fit-in, whose output would fit) is never rendered or stored either.
    checkPlanLimits(plan, settings);
    if (!isUnderOriginalsPrefix(plan.source, settings)) throw new RequestError(404, "not an original");
    const deadline = startDeadline();
    const { bucket, region } = s3OriginOf(request);
    const store = s3ObjectStore(clientFor(region));
    const input = {
      plan,
      settings,
      loadObject: async (other: string) => {
        // A watermark or frame image is pixels copied into the answer: it too must be an original.
        const key = checkOriginalKey(other);
        if (!isUnderOriginalsPrefix(key, settings)) return null;
        return (await store.get(bucket, key))?.body ?? null;
      },
      deadline,
    };
    const lease = receiveBuffer.lease();
    const { rendered, etag } = await renderMiss(store, bucket, input, lease.receiveInto).finally(lease.release);
    const cacheControl = rendered.maxAge === undefined ? settings.cacheControl : `public, max-age=${rendered.maxAge}`;
    // The purge compares this with the original's current ETag: a render that raced a replacement is found stale.
    const source = normalizeEtag(etag);
    await store.put(
      bucket,
      key,
      rendered.body,
      rendered.contentType,
      cacheControl,
      source ? { [SOURCE_ETAG_METADATA]: source } : undefined,
    );
    const inline = answerFromOrigin(origin, {
      status: "200",
      statusDescription: "OK",
      headers: {
        "content-type": [{ key: "Content-Type", value: rendered.contentType }],
        "cache-control": [{ key: "Cache-Control", value: cacheControl }],
      },
    });
    if (generatedResponseBytes({ ...inline, body: "" }) + base64Length(rendered.body.byteLength) <= MAX_GENERATED_BYTES) {
      inline.body = rendered.body.toString("base64");
      inline.bodyEncoding = "base64";
      return inline;
    }
    // Too big to answer inline: it is stored now, so the same URL will be an S3 hit.
    return answerFromOrigin(origin, {
      status: "302",
      statusDescription: "Found",
      headers: {
        location: [{ key: "Location", value: redirectTarget(request, key) }],
        "cache-control": [{ key: "Cache-Control", value: "no-store" }],
      },
    });
  }
}

/** What the render needs besides the original's bytes. */
type MissInput = Omit<RenderInput, "original">;

/**
 * A miss. Where the plan can be made from the original's intermediate (core/intermediate.ts),
 * the stored intermediate is read at the same time as the original (intermediateLookup), so a
 * miss waits for one round trip to S3 whether or not there is one, and the original's read stops
 * as soon as the intermediate is known to stand in for it. Otherwise the original is read no
 * further than the render needs (renderOriginal): a thumbnail of a progressive JPEG decoded at
 * 1/8 from its DC scans is rendered from those alone and makes no intermediate (its own render is
 * cheaper than making one; a larger variant of the page makes it), and a whole original makes one
 * where it pays (renderWhole).
 */
async function renderMiss(
  store: ObjectStore,
  bucket: string,
  input: MissInput,
  receiveInto: (bytes: number) => Buffer,
): Promise<{ rendered: RenderedVariant; etag?: string }> {
  const { plan, settings } = input;
  const lookup = planMayUseIntermediate(plan, settings) ? intermediateLookup(store, bucket, input) : undefined;
  const render = async (original: Buffer, dcPrefix: boolean, etag: string | undefined) =>
    dcPrefix
      ? renderVariant({ ...input, original, dcPrefix })
      : renderWhole(store, bucket, input, original, etag, lookup?.record() ?? null);
  try {
    return await renderOriginal(store, bucket, plan, render, receiveInto, lookup);
  } finally {
    // Even when the original's read failed: no read of this miss outlives it (Lambda freezes what is left).
    await lookup?.take(undefined);
  }
}

/** What may be rendered in place of the original's bytes: its intermediate. */
export interface StandIn {
  /**
   * True when it is known by now that it should stand in for the object of this ETag (what its
   * record says, before its bytes are checked): asked as that object's body arrives, true stops its read.
   */
  standsInFor(etag: string | undefined): boolean;
  /**
   * Once its bytes are read and checked: the render from it when it stands in for the object of
   * this ETag (undefined: the original does not exist), else null. Either way it lets go of its bytes.
   */
  take(etag: string | undefined): Promise<(() => Promise<RenderedVariant>) | null>;
}

/**
 * The stored intermediate of the plan's original, its read started now. It stands in for the
 * original only when it serves the plan and records the ETag of the object the original's GET
 * answers: one made from a replaced original is never used. Its record arrives with its headers,
 * so the original's read stops before the intermediate's own bytes are in; those are then checked
 * (isIntermediateOf), and when they cannot be read or are not what the record describes it is no
 * stand-in: the original is read on (its rest) and its whole render makes the intermediate again.
 */
function intermediateLookup(store: ObjectStore, bucket: string, input: MissInput): StandIn & { record(): IntermediateRecord | null } {
  const { plan, settings } = input;
  const key = intermediateKey(plan.source, settings);
  let announced: IntermediateRecord | null = null;
  let serves = false;
  const onHead = ({ metadata }: { metadata: Record<string, string> }) => {
    announced = readIntermediateMetadata(metadata);
    serves = announced !== null && intermediateServes(plan, announced, settings);
  };
  let checked: IntermediateRecord | null = null;
  let body: Buffer | null = null;
  // One that its record shows does not serve this plan is not read past its headers.
  const notServing = () => announced !== null && !serves;
  const done = storedIntermediate(store, bucket, key, { onHead, enough: notServing }).then(
    (found) => {
      checked = found?.record ?? null;
      body = found?.body ?? null;
    },
    (err: unknown) => console.error("origin-response: intermediate not read, the original is used", { key, error: String(err) }),
  );
  const matches = (record: IntermediateRecord | null, etag: string | undefined) => record?.sourceEtag === normalizeEtag(etag);
  return {
    standsInFor: (etag) => serves && matches(announced, etag),
    async take(etag) {
      await done;
      const bytes = body;
      const record = checked;
      body = null;
      if (etag === undefined || !bytes || !record || !matches(record, etag) || !intermediateServes(plan, record, settings)) return null;
      return () => renderFromIntermediate(input, bytes, record);
    },
    // renderWhole keeps an intermediate of this very original that does not serve this plan: its
    // record, unread bytes and all (a later miss it serves checks them, and makes it again if need be).
    record: () => checked ?? (notServing() ? announced : null),
  };
}

/**
 * The variant from the whole original, through a new intermediate where the plan can use one and
 * making it pays (the variant is then rendered from the intermediate's bytes, so every miss makes
 * the same variant). An intermediate of this very original that does not serve this plan is kept.
 */
async function renderWhole(
  store: ObjectStore,
  bucket: string,
  input: MissInput,
  original: Buffer,
  etag: string | undefined,
  kept: IntermediateRecord | null,
): Promise<RenderedVariant> {
  const { plan, settings } = input;
  const sourceEtag = normalizeEtag(etag);
  const made =
    planMayUseIntermediate(plan, settings) && sourceEtag && kept?.sourceEtag !== sourceEtag
      ? await makeIntermediate(original, plan, settings)
      : null;
  if (!made || !sourceEtag) return renderVariant({ ...input, original });
  const record: IntermediateRecord = { sourceEtag, source: made.source, sourceProfile: made.sourceProfile };
  const key = intermediateKey(plan.source, settings);
  // A failed store is logged: the variant is still good, and a later miss makes the intermediate again.
  const put = store
    .put(bucket, key, made.body, CONTENT_TYPES.jpeg, "no-store", intermediateMetadata(record))
    .catch((err: unknown) => console.error("origin-response: intermediate not stored", { key, error: String(err) }));
  const rendered = await renderFromIntermediate(input, made.body, record);
  await put;
  return rendered;
}

/**
 * The stored intermediate and its record; null when there is none, when `reading.enough` stopped
 * its read, or for bytes that are not the intermediate their record describes (made again).
 */
async function storedIntermediate(
  store: ObjectStore,
  bucket: string,
  key: string,
  reading: Pick<Reading, "onHead" | "enough">,
): Promise<{ body: Buffer; record: IntermediateRecord } | null> {
  const stored = await store.get(bucket, key, reading);
  if (stored?.rest) return null;
  const record = stored ? readIntermediateMetadata(stored.metadata) : null;
  return stored && record && (await isIntermediateOf(stored.body, record)) ? { body: stored.body, record } : null;
}

/**
 * Reads the plan's original and renders it, reading no more of it than the render needs: when
 * `standIn` (the intermediate) stands in for the object the GET answers, the read stops as soon
 * as that is known and the variant is made from it instead (when its bytes then fail their
 * check, the rest of the original is read); for a plan that may decode a progressive JPEG at 1/8
 * from its DC scans (render/jpeg/prefix.ts) the read stops where those scans end, and when the
 * render then needs more after all (WholeOriginalNeeded) the rest of the same object version is
 * read and the render runs again. Any other original is read whole, in the same single request.
 * The ETag is the object's the variant is made from; a missing original is a 404 whatever the
 * stand-in.
 */
export async function renderOriginal(
  store: ObjectStore,
  bucket: string,
  plan: TransformPlan,
  render: (original: Buffer, dcPrefix: boolean, etag: string | undefined) => Promise<RenderedVariant>,
  receiveInto?: (bytes: number) => Buffer,
  standIn?: StandIn,
): Promise<{ rendered: RenderedVariant; etag?: string }> {
  const watch = dcPrefixWatch(plan);
  const seen: { verdict: PrefixVerdict } = { verdict: "more" };
  const prefixEnds = (received: Buffer): boolean => {
    if (seen.verdict === "more") seen.verdict = watch!.check(received);
    return typeof seen.verdict === "object";
  };
  const enough = (received: Buffer, etag: string | undefined): boolean =>
    standIn?.standsInFor(etag) === true || (watch !== null && prefixEnds(received));
  const reading = { ...(watch || standIn ? { enough } : {}), ...(receiveInto ? { receiveInto } : {}) };
  let original = await store.get(bucket, plan.source, reading);
  const etag = original?.etag;
  const fromStandIn = await standIn?.take(original ? etag : undefined);
  if (fromStandIn) {
    original = null; // not held while the stand-in renders
    return { rendered: await fromStandIn(), etag };
  }
  const { verdict } = seen;
  if (original?.rest) {
    if (typeof verdict === "object") {
      try {
        return { rendered: await render(original.body.subarray(0, verdict.end), true, etag), etag };
      } catch (err) {
        if (!(err instanceof WholeOriginalNeeded)) throw err;
      }
    }
    original = await original.rest();
  }
  if (!original) throw new RequestError(404, "original not found");
  return { rendered: await render(original.body, false, original.etag), etag: original.etag };
}

/** The content types origin-response stores variants with: a stored variant of any other type is not ours. */
const VARIANT_CONTENT_TYPES: ReadonlySet<string> = new Set(Object.values(CONTENT_TYPES));

/**
 * An object S3 serves (200, or 206 for a range) goes to the viewer only when it is an image of
 * ours: an original under `originalsPrefix` stored with one of `originalContentTypes`, or a
 * variant with a type we write. Anything else the bucket holds (JSON, HTML, an SVG) becomes a
 * 404 with the short error lifetime, so it is neither shown nor cached. Viewer-request cannot
 * decide this: only S3's answer carries the stored type.
 */
export function passThroughAnswer(
  request: CloudFrontRequest,
  response: CloudFrontResponse,
  settings: Settings,
): CloudFrontResponse | CloudFrontResultResponse {
  let key: string;
  try {
    key = uriToKey(request.uri);
  } catch {
    return answerFromOrigin(response, errorResponse(404, "not an image", settings));
  }
  const contentType = headerValue(response.headers, "content-type");
  const servable = isUnderVariantPrefix(key, settings)
    ? contentType !== undefined && VARIANT_CONTENT_TYPES.has(mediaTypeOf(contentType))
    : isUnderOriginalsPrefix(key, settings) && isServableContentType(contentType, settings);
  return servable ? response : answerFromOrigin(response, errorResponse(404, "not an image", settings));
}

/** Bucket and region of the S3 origin (the bucket is the host part before ".s3."). */
export function s3OriginOf(request: CloudFrontRequest): { bucket: string; region: string } {
  const s3 = request.origin?.s3;
  const at = s3?.domainName.lastIndexOf(".s3.") ?? -1;
  if (!s3 || at <= 0) throw new Error("origin-response is attached to a behaviour whose origin is not S3");
  return { bucket: s3.domainName.slice(0, at), region: s3.region || "us-east-1" };
}

/** Back to the viewer's own URL when viewer-request passed it on; only same-site paths are trusted. */
function redirectTarget(request: CloudFrontRequest, key: string): string {
  const viewerUrl = headerValue(request.headers, VIEWER_URL_HEADER);
  if (viewerUrl && viewerUrl.startsWith("/") && !viewerUrl.startsWith("//") && !/[\r\n\\]/.test(viewerUrl)) return viewerUrl;
  return variantKeyToUri(key);
}

function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

export const handler = withBundledSettings((settings) => createOriginResponseHandler(settings));
