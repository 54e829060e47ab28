/**
 * CloudFront's and Lambda@Edge's rules, as data, each with the documentation section it comes
 * from, and the checkers built on them: of a handler's result (handler tests, the local edge),
 * and of the distribution's and functions' inputs (the component's mock tests).
 *
 * What passes here must pass on CloudFront: a result that breaks one of these rules is answered
 * 502 "The Lambda function result failed validation" there, and a configuration that breaks one
 * fails `pulumi up`. Pure: no AWS SDK, no Pulumi, no HTTP server.
 *
 * Sources (CloudFront Developer Guide unless said otherwise):
 * - RESTRICTIONS_ALL: "Restrictions on all edge functions" (edge-function-restrictions-all.html)
 * - RESTRICTIONS_LAMBDA: "Restrictions on Lambda@Edge" (lambda-at-edge-function-restrictions.html)
 * - QUOTAS: "Quotas on Lambda@Edge" (cloudfront-limits.html#limits-lambda-at-edge); the viewer
 *   memory and timeout figures are its older table, which many tools still enforce
 * - GENERATING: "Generate HTTP responses in request triggers" and "Update HTTP responses in
 *   origin response triggers" (lambda-generating-http-responses.html)
 * - EVENT_STRUCTURE: "Lambda@Edge event structure" (lambda-event-structure.html)
 * - ERROR_PAGES: "Create a custom error page for specific HTTP status codes" (creating-custom-error-pages.html)
 * - ORIGIN_SETTINGS: "Origin settings", Response timeout (DownloadDistValuesOrigin.html); the
 *   API's S3OriginConfig.OriginReadTimeout: 1 to 120 s, 30 s when not set
 * - INVALIDATING: "What you need to know when invalidating files" (invalidation-specifying-objects.html)
 * - S3_ORIGINS: "Restrict access to an Amazon S3 origin" (private-content-restricting-access-to-s3.html)
 * - STANDARD_LOGS: "Configure standard logging (legacy)", choosing an S3 bucket (standard-logging-legacy-s3.html)
 * - LAMBDA_QUOTAS: Lambda Developer Guide, "Lambda quotas" (gettingstarted-limits.html), for
 *   the package sizes CloudFront does not restate
 */
import type { CloudFrontHeaders, CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";

const RESTRICTIONS_ALL = "Restrictions on all edge functions";
const RESTRICTIONS_LAMBDA = "Restrictions on Lambda@Edge";
const QUOTAS = "Quotas on Lambda@Edge";
const GENERATING = "Generate HTTP responses in request triggers / Update HTTP responses in origin response triggers";
const EVENT_STRUCTURE = "Lambda@Edge event structure";
const ERROR_PAGES = "Create a custom error page for specific HTTP status codes";
const ORIGIN_SETTINGS = "Origin settings: Response timeout";
const INVALIDATING = "What you need to know when invalidating files";
const LAMBDA_QUOTAS = "Lambda quotas";
const S3_ORIGINS = "Restrict access to an Amazon S3 origin";
const STANDARD_LOGS = "Configure standard logging (legacy): choosing an Amazon S3 bucket";

/**
 * Regions whose S3 buckets CloudFront does not deliver standard logs to: the four AWS names
 * (Cape Town, Hong Kong, Milan, Bahrain). Opt-in regions launched later are not listed until AWS
 * says so: a wrong entry would refuse a working deploy.
 */
export const NO_STANDARD_LOG_REGIONS: EdgeRule<readonly string[]> = {
  value: ["af-south-1", "ap-east-1", "eu-south-1", "me-south-1"],
  source: STANDARD_LOGS,
};

/** The log bucket must allow ACLs: CloudFront grants itself write access through one; BucketOwnerEnforced disables them. */
export const STANDARD_LOG_BUCKET_OWNERSHIP_REFUSED: EdgeRule<string> = {
  value: "BucketOwnerEnforced",
  source: `${STANDARD_LOGS}: the bucket must have ACLs enabled`,
};

/** Why CloudFront could not deliver standard logs to this bucket (its region and Cloud Control description), or undefined. */
export function standardLogBucketRefusal(bucket: string, region: string, propertiesJson: string): string | undefined {
  if (NO_STANDARD_LOG_REGIONS.value.includes(region))
    return `accessLogsBucket ${bucket} is in ${region}, where CloudFront does not deliver standard logs (${NO_STANDARD_LOG_REGIONS.source}): use a bucket in another region`;
  const properties = JSON.parse(propertiesJson || "{}") as { OwnershipControls?: { Rules?: { ObjectOwnership?: string }[] } };
  const ownership = properties.OwnershipControls?.Rules?.map((r) => r.ObjectOwnership);
  if (ownership?.includes(STANDARD_LOG_BUCKET_OWNERSHIP_REFUSED.value))
    return (
      `accessLogsBucket ${bucket} has object ownership BucketOwnerEnforced, which disables ACLs, so CloudFront cannot write its logs ` +
      `(${STANDARD_LOG_BUCKET_OWNERSHIP_REFUSED.source}): set its object ownership to BucketOwnerPreferred or ObjectWriter`
    );
  return undefined;
}

/** An S3 origin read through an origin access control keeps an empty origin access identity (not both). */
export const OAC_EXCLUDES_OAI: EdgeRule<string> = {
  value: "",
  source: `${S3_ORIGINS}: with an origin access control, the origin's origin access identity is empty`,
};

export const EDGE_EVENT_TYPES = ["viewer-request", "origin-request", "origin-response", "viewer-response"] as const;
export type EdgeEventType = (typeof EDGE_EVENT_TYPES)[number];

/** A documented rule: its value and the section of AWS's documentation it comes from. */
export interface EdgeRule<T> {
  value: T;
  source: string;
}

/** Headers a function may not add (CloudFront answers 502); a trailing * matches any suffix. */
export const DISALLOWED_HEADERS: EdgeRule<readonly string[]> = {
  value: [
    "Connection",
    "Expect",
    "Keep-Alive",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Connection",
    "Trailer",
    "Upgrade",
    "X-Accel-Buffering",
    "X-Accel-Charset",
    "X-Accel-Limit-Rate",
    "X-Accel-Redirect",
    "X-Amz-Cf-*",
    "X-Amzn-Auth",
    "X-Amzn-Cf-Billing",
    "X-Amzn-Cf-Id",
    "X-Amzn-Cf-Xff",
    "X-Amzn-Errortype",
    "X-Amzn-Fle-Profile",
    "X-Amzn-Header-Count",
    "X-Amzn-Header-Order",
    "X-Amzn-Lambda-Integration-Tag",
    "X-Amzn-RequestId",
    "X-Cache",
    "X-Edge-*",
    "X-Forwarded-Proto",
    "X-Real-IP",
  ],
  source: `${RESTRICTIONS_ALL}, HTTP headers: disallowed headers`,
};

/** Headers a function may not add, change or delete, per event type (CloudFront answers 502). */
export const READ_ONLY_HEADERS: EdgeRule<Readonly<Record<EdgeEventType, readonly string[]>>> = {
  value: {
    "viewer-request": ["Content-Length", "Host", "Transfer-Encoding", "Via"],
    "origin-request": [
      "Accept-Encoding",
      "Content-Length",
      "If-Modified-Since",
      "If-None-Match",
      "If-Range",
      "If-Unmodified-Since",
      "Transfer-Encoding",
      "Via",
    ],
    "origin-response": ["Transfer-Encoding", "Via"],
    "viewer-response": ["Warning", "Via"],
  },
  source: `${RESTRICTIONS_ALL}, HTTP headers: read-only headers`,
};

/**
 * Largest response a function may generate, headers and body together. AWS writes "40 KB" and
 * "1 MB" without saying which kilo; the decimal reading is the smaller, so it is the safe one.
 */
export const GENERATED_RESPONSE_MAX_BYTES: EdgeRule<Readonly<Record<EdgeEventType, number>>> = {
  value: { "viewer-request": 40_000, "viewer-response": 40_000, "origin-request": 1_000_000, "origin-response": 1_000_000 },
  source: `${QUOTAS}: size of a response generated by a Lambda function, including headers and body`,
};

/** A generated response's status: a string holding a whole number in this range. */
export const GENERATED_STATUS_RANGE: EdgeRule<{ min: number; max: number }> = {
  value: { min: 200, max: 599 },
  source: GENERATING,
};

/** Event types whose function may not change the status it was given. */
export const STATUS_READ_ONLY_EVENTS: EdgeRule<readonly EdgeEventType[]> = {
  value: ["viewer-response"],
  source: `${RESTRICTIONS_ALL}, HTTP status codes`,
};

/** The only body encodings; a base64 body must be valid base64. */
export const BODY_ENCODINGS: EdgeRule<readonly string[]> = { value: ["text", "base64"], source: GENERATING };

/** The status codes CloudFront accepts a custom error response (page or error caching TTL) for. */
export const CUSTOM_ERROR_CODES: EdgeRule<readonly number[]> = {
  value: [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504],
  source: ERROR_PAGES,
};

/** How long CloudFront waits for the origin's answer, and then for each next part of it, before it answers 504. */
export const ORIGIN_RESPONSE_TIMEOUT_SECONDS: EdgeRule<number> = { value: 30, source: ORIGIN_SETTINGS };

export interface TriggerLimits {
  maxMemoryMb: number;
  maxTimeoutSeconds: number;
}

/** Memory and timeout per trigger (viewer triggers: the older, stricter table, still valid under the new one). */
export const TRIGGER_LIMITS: EdgeRule<Readonly<Record<EdgeEventType, TriggerLimits>>> = {
  value: {
    "viewer-request": { maxMemoryMb: 128, maxTimeoutSeconds: 5 },
    "viewer-response": { maxMemoryMb: 128, maxTimeoutSeconds: 5 },
    "origin-request": { maxMemoryMb: 10_240, maxTimeoutSeconds: 30 },
    "origin-response": { maxMemoryMb: 10_240, maxTimeoutSeconds: 30 },
  },
  source: `${QUOTAS}: function memory size, function timeout`,
};

/** Where the function must be created. */
export const EDGE_FUNCTION_REGION: EdgeRule<string> = { value: "us-east-1", source: RESTRICTIONS_LAMBDA };

/** Node.js runtimes that are current (not deprecated) Lambda runtimes; deprecated ones cannot be created or updated. */
export const EDGE_RUNTIMES: EdgeRule<readonly string[]> = {
  value: ["nodejs22.x", "nodejs24.x"],
  source: `${RESTRICTIONS_LAMBDA}, supported runtimes (and Lambda's list of supported runtimes)`,
};

export const EDGE_ARCHITECTURES: EdgeRule<readonly string[]> = {
  value: ["x86_64"],
  source: `${RESTRICTIONS_LAMBDA}: arm64 is not supported`,
};

export const MAX_EPHEMERAL_STORAGE_MB: EdgeRule<number> = { value: 512, source: `${RESTRICTIONS_LAMBDA}: ephemeral storage above 512 MB` };

/**
 * Lambda features Lambda@Edge does not support, as the inputs of `aws.lambda.Function` that
 * would turn them on (the feature is on when the input is set and not empty).
 */
export const UNSUPPORTED_FUNCTION_INPUTS: EdgeRule<Readonly<Record<string, string>>> = {
  value: {
    environment: "environment variables",
    layers: "layers",
    vpcConfig: "VPC access",
    deadLetterConfig: "dead-letter queues",
    imageUri: "container images",
    imageConfig: "container images",
    sourceKmsKeyArn: "a customer managed KMS key for the .zip",
    fileSystemConfig: "file systems (EFS needs a VPC)",
    snapStart: "SnapStart",
  },
  source: RESTRICTIONS_LAMBDA,
};

/** A published, numbered version in us-east-1: not `$LATEST`, not an alias. */
export const QUALIFIED_ARN: EdgeRule<RegExp> = {
  value: /^arn:aws[a-z-]*:lambda:us-east-1:\d{12}:function:[A-Za-z0-9_-]+:[1-9]\d*$/,
  source: `${RESTRICTIONS_LAMBDA}: you must use a numbered version, not $LATEST or aliases`,
};

/**
 * Invalidation paths: start with "/", at most 4,000 characters, case-sensitive, a "*" wildcard only
 * at the end; non-ASCII characters and RFC 1738's unsafe ones are URL-encoded, and no other
 * character is, or the path does not match the cached file.
 */
export const INVALIDATION_PATHS: EdgeRule<{ maxLength: number; unsafeCharacters: string }> = {
  value: { maxLength: 4000, unsafeCharacters: ' "#%<>\\^`{|}[]~' },
  source: `${INVALIDATING}: invalidation paths`,
};

/** What CloudFront would refuse, or fail to match, in an invalidation path (empty when none). */
export function invalidationPathViolations(path: string): string[] {
  const { maxLength, unsafeCharacters } = INVALIDATION_PATHS.value;
  const out: string[] = [];
  if (!path.startsWith("/")) out.push("an invalidation path must start with /");
  if (path.length > maxLength) out.push(`an invalidation path is at most ${maxLength} characters`);
  if (path.slice(0, -1).includes("*")) out.push("a * wildcard is allowed only at the end of an invalidation path");
  const raw = path.replace(/%[0-9A-Fa-f]{2}/g, "");
  if ([...raw].some((c) => c > "\x7e" || c < "\x21" || unsafeCharacters.includes(c))) {
    out.push("non-ASCII and unsafe characters must be URL-encoded in an invalidation path");
  }
  return out;
}

/** A request a function passes on must keep a path: its `uri` starts with "/". */
export const URI_STARTS_WITH_SLASH: EdgeRule<string> = { value: "/", source: `${EVENT_STRUCTURE}: request uri, the relative path` };

/** The URI and query string together must be shorter than this many characters. */
export const MAX_URI_AND_QUERY_CHARS: EdgeRule<number> = {
  value: 8_192,
  source: `${RESTRICTIONS_ALL}, query strings: the total length of the URI and query string must be less than 8,192 characters`,
};

/** Characters a query string a function writes may not contain: spaces, control characters and `#`. */
export const QUERY_STRING_FORBIDDEN: EdgeRule<RegExp> = {
  value: /[\u0000-\u0020\u007f#]/,
  source: `${RESTRICTIONS_ALL}, query strings: no spaces, control characters or fragment identifier (#)`,
};

/** Statuses whose generated response may carry no body (CloudFront answers 502 otherwise). */
export const BODYLESS_STATUSES: EdgeRule<readonly string[]> = { value: ["204"], source: `${GENERATING}: a 204 with a body is a 502` };

/** Headers CloudFront adds after the viewer request: a viewer-request function adding one gets a 502. */
export const CLOUDFRONT_VIEWER_HEADERS: EdgeRule<string> = {
  value: "CloudFront-Viewer-",
  source: `${RESTRICTIONS_LAMBDA}, CloudFront headers: a viewer-request function may not add CloudFront-Viewer-* headers`,
};

export interface PackageLimits {
  maxZippedBytes: number;
  /** Undefined where only the zipped limit is documented for the trigger. */
  maxUnzippedBytes?: number;
}

/**
 * Code package sizes per trigger: viewer triggers the older 1 MB zipped quota (still enforced by
 * many tools and valid under the new table), origin triggers 50 MB zipped and Lambda's 250 MB
 * unzipped. AWS writes MB for 2^20 bytes here (Lambda's error text: "smaller than 262144000 bytes").
 */
export const PACKAGE_LIMITS: EdgeRule<Readonly<Record<EdgeEventType, PackageLimits>>> = {
  value: {
    "viewer-request": { maxZippedBytes: 1024 * 1024 },
    "viewer-response": { maxZippedBytes: 1024 * 1024 },
    "origin-request": { maxZippedBytes: 50 * 1024 * 1024, maxUnzippedBytes: 250 * 1024 * 1024 },
    "origin-response": { maxZippedBytes: 50 * 1024 * 1024, maxUnzippedBytes: 250 * 1024 * 1024 },
  },
  source: `${QUOTAS}: maximum compressed size of a Lambda function and any included libraries; ${LAMBDA_QUOTAS}: deployment package, unzipped`,
};

/** Reserved concurrency cannot be set: Lambda@Edge shares the Region's concurrency (-1 is the provider's "unreserved"). */
export const RESERVED_CONCURRENCY_UNSET: EdgeRule<number> = {
  value: -1,
  source: `${RESTRICTIONS_LAMBDA}: reserved and provisioned concurrency`,
};

/** Runtime management must stay automatic ("Auto", the default). */
export const RUNTIME_UPDATE_MODE: EdgeRule<string> = {
  value: "Auto",
  source: `${RESTRICTIONS_LAMBDA}: runtime management configuration other than Auto`,
};

/** The rule of DISALLOWED_HEADERS that forbids adding `name`, if any. */
export function disallowedEdgeHeader(name: string): string | undefined {
  const lower = name.toLowerCase();
  return DISALLOWED_HEADERS.value.find((rule) => {
    const r = rule.toLowerCase();
    return r.endsWith("*") ? lower.startsWith(r.slice(0, -1)) : lower === r;
  });
}

/** The input an event type hands its function: a request, and for response events the response too. */
export interface EdgeEventInput {
  request: CloudFrontRequest;
  response?: { status: string; statusDescription?: string; headers: CloudFrontHeaders };
}

export type EdgeResult = CloudFrontRequest | CloudFrontResultResponse;

/** Whether a request trigger's result is a generated response (it has a status) rather than the request. */
export function isGeneratedResponse(result: EdgeResult): result is CloudFrontResultResponse {
  return typeof (result as { status?: unknown }).status === "string" || !("uri" in result);
}

/**
 * Every rule a function's result breaks, as short sentences naming the rule's source; empty when
 * CloudFront would accept it. `input` is what the function was given (before it ran: pass a copy
 * if the function may change its event in place).
 */
export function checkEdgeResult(eventType: EdgeEventType, input: EdgeEventInput, result: EdgeResult | null | undefined): string[] {
  if (result === null || typeof result !== "object")
    return [`${eventType}: the function returned ${String(result)}, not a request or response (${EVENT_STRUCTURE})`];
  const isRequestEvent = eventType === "viewer-request" || eventType === "origin-request";
  if (isRequestEvent && !isGeneratedResponse(result)) {
    return [
      ...headerShapeViolations(result.headers),
      ...readOnlyViolations(eventType, input.request.headers, result.headers),
      ...addedDisallowed(input.request.headers, result.headers),
      ...addedViewerHeaders(eventType, input.request.headers, result.headers),
      ...requestLineViolations(input.request, result),
    ];
  }
  const response = result as CloudFrontResultResponse;
  const given = isRequestEvent ? undefined : input.response;
  const violations = [...headerShapeViolations(response.headers), ...statusViolations(eventType, given?.status, response.status)];
  if (given) violations.push(...readOnlyViolations(eventType, given.headers, response.headers ?? {}));
  violations.push(...addedDisallowed(given?.headers ?? {}, response.headers ?? {}));
  violations.push(...bodyViolations(eventType, response));
  return violations;
}

/** Header maps: lower-case names, each an array of `{ key?, value }` whose key spells the same name. */
function headerShapeViolations(headers: CloudFrontHeaders | undefined): string[] {
  const out: string[] = [];
  for (const [name, values] of Object.entries(headers ?? {})) {
    if (name !== name.toLowerCase()) out.push(`header name "${name}" is not lower-case (${EVENT_STRUCTURE})`);
    if (!Array.isArray(values)) {
      out.push(`header "${name}" is not an array of { key, value } (${EVENT_STRUCTURE})`);
      continue;
    }
    for (const v of values) {
      if (typeof v?.value !== "string") out.push(`header "${name}" has a value that is not a string (${EVENT_STRUCTURE})`);
      else if (v.key !== undefined && v.key.toLowerCase() !== name.toLowerCase())
        out.push(`header "${name}" carries key "${v.key}" (${EVENT_STRUCTURE})`);
    }
  }
  return out;
}

/** A read-only header must come back exactly as given: not added, changed or deleted. */
function readOnlyViolations(eventType: EdgeEventType, given: CloudFrontHeaders, returned: CloudFrontHeaders | undefined): string[] {
  const out: string[] = [];
  for (const name of READ_ONLY_HEADERS.value[eventType]) {
    const before = valuesOf(given, name);
    const after = valuesOf(returned ?? {}, name);
    if (before.join("\n") === after.join("\n") && before.length === after.length) continue;
    const what = before.length === 0 ? "added" : after.length === 0 ? "deleted" : "changed";
    out.push(`${eventType}: the function ${what} read-only header ${name} (${READ_ONLY_HEADERS.source})`);
  }
  return out;
}

function addedDisallowed(given: CloudFrontHeaders, returned: CloudFrontHeaders | undefined): string[] {
  const out: string[] = [];
  for (const name of Object.keys(returned ?? {})) {
    const rule = disallowedEdgeHeader(name);
    if (rule && given[name.toLowerCase()] === undefined)
      out.push(`the function added disallowed header ${name} (${rule}; ${DISALLOWED_HEADERS.source})`);
  }
  return out;
}

function addedViewerHeaders(eventType: EdgeEventType, given: CloudFrontHeaders, returned: CloudFrontHeaders | undefined): string[] {
  if (eventType !== "viewer-request") return [];
  const prefix = CLOUDFRONT_VIEWER_HEADERS.value.toLowerCase();
  return Object.keys(returned ?? {})
    .filter((name) => name.toLowerCase().startsWith(prefix) && given[name.toLowerCase()] === undefined)
    .map((name) => `viewer-request: the function added ${name} (${CLOUDFRONT_VIEWER_HEADERS.source})`);
}

/** The URI and query string of a request passed on: a path, short enough, and (when rewritten) a clean query string. */
function requestLineViolations(given: CloudFrontRequest, request: CloudFrontRequest): string[] {
  const out: string[] = [];
  const uri = String(request.uri ?? "");
  if (!uri.startsWith(URI_STARTS_WITH_SLASH.value))
    out.push(`uri ${JSON.stringify(uri.slice(0, 40))} does not start with "/" (${URI_STARTS_WITH_SLASH.source})`);
  const query = String(request.querystring ?? "");
  const length = uri.length + (query === "" ? 0 : query.length + 1);
  if (length >= MAX_URI_AND_QUERY_CHARS.value)
    out.push(
      `uri and query string are ${length} characters, not under ${MAX_URI_AND_QUERY_CHARS.value} (${MAX_URI_AND_QUERY_CHARS.source})`,
    );
  if (query !== given.querystring && QUERY_STRING_FORBIDDEN.value.test(query))
    out.push(
      `the rewritten query string ${JSON.stringify(query.slice(0, 40))} has a space, control character or # (${QUERY_STRING_FORBIDDEN.source})`,
    );
  return out;
}

function statusViolations(eventType: EdgeEventType, givenStatus: string | undefined, status: unknown): string[] {
  if (typeof status !== "string" || !/^\d{3}$/.test(status))
    return [`status ${JSON.stringify(status)} is not a string of three digits (${GENERATED_STATUS_RANGE.source})`];
  const { min, max } = GENERATED_STATUS_RANGE.value;
  if (Number(status) < min || Number(status) > max) return [`status ${status} is outside ${min}-${max} (${GENERATED_STATUS_RANGE.source})`];
  if (STATUS_READ_ONLY_EVENTS.value.includes(eventType) && givenStatus !== undefined && status !== givenStatus) {
    return [`${eventType}: the function changed the status from ${givenStatus} to ${status} (${STATUS_READ_ONLY_EVENTS.source})`];
  }
  return [];
}

function bodyViolations(eventType: EdgeEventType, response: CloudFrontResultResponse): string[] {
  const out: string[] = [];
  const encoding = response.bodyEncoding;
  if (encoding !== undefined && !BODY_ENCODINGS.value.includes(encoding))
    out.push(`bodyEncoding "${String(encoding)}" is not text or base64 (${BODY_ENCODINGS.source})`);
  if (response.body !== undefined && typeof response.body !== "string") out.push(`body is not a string (${GENERATING})`);
  else if (encoding === "base64" && response.body !== undefined && !isBase64(response.body))
    out.push(`body is marked base64 but is not valid base64 (${BODY_ENCODINGS.source})`);
  if (BODYLESS_STATUSES.value.includes(String(response.status)) && typeof response.body === "string" && response.body !== "")
    out.push(`status ${response.status} with a body (${BODYLESS_STATUSES.source})`);
  const size = generatedResponseBytes(response);
  const max = GENERATED_RESPONSE_MAX_BYTES.value[eventType];
  if (response.body !== undefined && size > max)
    out.push(`${eventType}: generated response is ${size} bytes with its headers, over ${max} (${GENERATED_RESPONSE_MAX_BYTES.source})`);
  return out;
}

/**
 * A generated response's size as this module counts it against GENERATED_RESPONSE_MAX_BYTES: the
 * body as returned (base64 text when base64) plus every header line `Key: value\r\n` and the
 * status line. AWS counts "headers and body"; counting the encoded body is the stricter reading.
 */
export function generatedResponseBytes(
  response: Pick<CloudFrontResultResponse, "status" | "statusDescription" | "headers" | "body">,
): number {
  let bytes = Buffer.byteLength(`HTTP/1.1 ${response.status} ${response.statusDescription ?? ""}\r\n\r\n`);
  for (const [name, values] of Object.entries(response.headers ?? {})) {
    for (const v of values ?? []) bytes += Buffer.byteLength(`${v.key ?? name}: ${v.value}\r\n`);
  }
  return bytes + (typeof response.body === "string" ? Buffer.byteLength(response.body) : 0);
}

function valuesOf(headers: CloudFrontHeaders, name: string): string[] {
  return (headers[name.toLowerCase()] ?? []).map((v) => v.value);
}

function isBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}

/** The inputs of an `aws.lambda.Function` that serves as Lambda@Edge on `eventType`, as recorded by mocks. */
export function checkEdgeFunctionInputs(eventType: EdgeEventType, inputs: Record<string, any>): string[] {
  const out: string[] = [];
  const limits = TRIGGER_LIMITS.value[eventType];
  const memory = inputs.memorySize ?? 128;
  const timeout = inputs.timeout ?? 3;
  if (memory > limits.maxMemoryMb)
    out.push(`${eventType}: memorySize ${memory} MB is over ${limits.maxMemoryMb} MB (${TRIGGER_LIMITS.source})`);
  if (timeout > limits.maxTimeoutSeconds)
    out.push(`${eventType}: timeout ${timeout} s is over ${limits.maxTimeoutSeconds} s (${TRIGGER_LIMITS.source})`);
  if (!EDGE_RUNTIMES.value.includes(inputs.runtime))
    out.push(`runtime ${JSON.stringify(inputs.runtime)} is not one of ${EDGE_RUNTIMES.value.join(", ")} (${EDGE_RUNTIMES.source})`);
  for (const arch of inputs.architectures ?? ["x86_64"]) {
    if (!EDGE_ARCHITECTURES.value.includes(arch)) out.push(`architecture ${arch} (${EDGE_ARCHITECTURES.source})`);
  }
  if (inputs.publish !== true) out.push(`publish must be true: CloudFront takes numbered versions only (${QUALIFIED_ARN.source})`);
  if (inputs.region !== undefined && inputs.region !== EDGE_FUNCTION_REGION.value)
    out.push(`region ${inputs.region} is not ${EDGE_FUNCTION_REGION.value} (${EDGE_FUNCTION_REGION.source})`);
  if (inputs.packageType === "Image") out.push(`packageType Image: container images (${UNSUPPORTED_FUNCTION_INPUTS.source})`);
  const storage = inputs.ephemeralStorage?.size;
  if (storage !== undefined && storage > MAX_EPHEMERAL_STORAGE_MB.value)
    out.push(`ephemeral storage ${storage} MB (${MAX_EPHEMERAL_STORAGE_MB.source})`);
  if (inputs.tracingConfig?.mode === "Active") out.push(`X-Ray tracing (${RESTRICTIONS_LAMBDA})`);
  const reserved = inputs.reservedConcurrentExecutions;
  if (reserved !== undefined && reserved !== null && reserved !== RESERVED_CONCURRENCY_UNSET.value)
    out.push(`reservedConcurrentExecutions ${reserved}: reserved concurrency (${RESERVED_CONCURRENCY_UNSET.source})`);
  for (const [input, feature] of Object.entries(UNSUPPORTED_FUNCTION_INPUTS.value)) {
    if (isSet(inputs[input])) out.push(`${input}: ${feature} (${UNSUPPORTED_FUNCTION_INPUTS.source})`);
  }
  return out;
}

function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.values(value as object).some(isSet);
  return true;
}

/** The inputs of an `aws.cloudfront.Distribution`, as recorded by mocks: error codes and edge associations. */
export function checkDistributionInputs(inputs: Record<string, any>): string[] {
  const out: string[] = [];
  for (const e of inputs.customErrorResponses ?? []) {
    if (!CUSTOM_ERROR_CODES.value.includes(e.errorCode))
      out.push(
        `custom error response for ${e.errorCode}: CloudFront accepts only ${CUSTOM_ERROR_CODES.value.join(", ")} (${CUSTOM_ERROR_CODES.source})`,
      );
  }
  for (const origin of inputs.origins ?? []) {
    const oai = origin.s3OriginConfig?.originAccessIdentity;
    if (origin.originAccessControlId && oai !== undefined && oai !== OAC_EXCLUDES_OAI.value)
      out.push(
        `origin ${origin.originId}: an origin access control and origin access identity ${JSON.stringify(oai)} (${OAC_EXCLUDES_OAI.source})`,
      );
  }
  const behaviours = [inputs.defaultCacheBehavior, ...(inputs.orderedCacheBehaviors ?? [])].filter(Boolean);
  for (const behaviour of behaviours) {
    const seen = new Set<string>();
    for (const a of behaviour.lambdaFunctionAssociations ?? []) {
      if (!(EDGE_EVENT_TYPES as readonly string[]).includes(a.eventType))
        out.push(`association event type ${JSON.stringify(a.eventType)} (${EVENT_STRUCTURE})`);
      if (seen.has(a.eventType)) out.push(`two functions on ${a.eventType} in one cache behaviour (${RESTRICTIONS_ALL})`);
      seen.add(a.eventType);
      if (typeof a.lambdaArn !== "string" || !QUALIFIED_ARN.value.test(a.lambdaArn))
        out.push(
          `${a.eventType}: lambdaArn ${JSON.stringify(a.lambdaArn)} is not a numbered version in us-east-1 (${QUALIFIED_ARN.source})`,
        );
    }
  }
  return out;
}

/** The inputs of an `aws.lambda.RuntimeManagementConfig` for an edge function: only "Auto" is accepted. */
export function checkRuntimeManagementInputs(inputs: Record<string, any>): string[] {
  const mode = inputs.updateRuntimeOn ?? RUNTIME_UPDATE_MODE.value;
  return mode === RUNTIME_UPDATE_MODE.value
    ? []
    : [`runtime management updateRuntimeOn ${JSON.stringify(mode)} (${RUNTIME_UPDATE_MODE.source})`];
}

/** A built code package against its trigger's size limits; empty when Lambda@Edge would take it. */
export function checkPackageSize(eventType: EdgeEventType, zippedBytes: number, unzippedBytes: number): string[] {
  const limits = PACKAGE_LIMITS.value[eventType];
  const out: string[] = [];
  if (zippedBytes > limits.maxZippedBytes)
    out.push(`${eventType}: the zipped package is ${zippedBytes} bytes, over ${limits.maxZippedBytes} (${PACKAGE_LIMITS.source})`);
  if (limits.maxUnzippedBytes !== undefined && unzippedBytes > limits.maxUnzippedBytes)
    out.push(`${eventType}: the unzipped package is ${unzippedBytes} bytes, over ${limits.maxUnzippedBytes} (${PACKAGE_LIMITS.source})`);
  return out;
}
