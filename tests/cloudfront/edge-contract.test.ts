/**
 * The built bundles (the `index.js` of each folder `npm run build` makes, built here into a temp dir) against the
 * edge contract: the documented example events (tests/fixtures/events/), with S3's 403/404 as S3
 * sends them, for every kind of answer the handlers give; every result passes the checker of
 * handlers/cloudfront/edge-rules.ts. The bundles run in this process; their S3 client reaches an embedded
 * s3rver through the SDK's own endpoint variables, the way the deployed code reaches S3.
 */
import test from "ava";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32, deflateSync } from "node:zlib";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { CloudFrontRequest, CloudFrontRequestEvent, CloudFrontResponseEvent, CloudFrontResultResponse } from "aws-lambda";
import { buildEdgeBundles } from "../../components/bundle.js";
import { VIEWER_URL_HEADER } from "../../handlers/cloudfront/plumbing.js";
import { checkEdgeResult, isGeneratedResponse, type EdgeEventType, type EdgeResult } from "../../handlers/cloudfront/edge-rules.js";
import { S3RVER_CREDENTIALS, createS3Client, startEmbeddedS3, type EmbeddedS3 } from "../../local/s3.js";
import { exampleEvent } from "../helpers/edge-contract.js";

/** The documented S3 origin's bucket and region (tests/fixtures/events/origin-response-s3-*.json). */
const BUCKET = "awsexamplebucket";
const REGION = "eu-west-1";
const fixture = (name: string) => readFileSync(join(__dirname, "..", "fixtures", "images", name));

type Handler<E> = (event: E) => Promise<EdgeResult>;
let outDir: string;
let s3: EmbeddedS3;
let client: S3Client;
let viewerRequest: Handler<CloudFrontRequestEvent>;
let originResponse: Handler<CloudFrontResponseEvent>;

test.before(async () => {
  outDir = mkdtempSync(join(tmpdir(), "edge-contract-"));
  await buildEdgeBundles({ outDir });
  s3 = await startEmbeddedS3(join(outDir, "s3"), BUCKET);
  client = createS3Client({ endpoint: s3.endpoint, region: REGION, credentials: S3RVER_CREDENTIALS });
  await put("images/cat.jpg", fixture("raindrops-480.jpg"), "image/jpeg");
  await put("images/noise.png", noisePng(1000, 1000), "image/png");
  await put("images/not-an-image.jpg", Buffer.from("<!doctype html><p>hello</p>"), "image/jpeg");
  // The bundles build their own S3 client, as on Lambda, with the runtime's credential variables:
  // aim it at the embedded S3 (which checks SigV4 as S3 does) the SDK's standard way.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: "a-session-token-the-signature-covers",
  });
  viewerRequest = require(join(outDir, "viewer-request", "index.js")).handler;
  originResponse = require(join(outDir, "origin-response", "index.js")).handler;
});

test.after.always(async () => {
  client?.destroy();
  await s3?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

/**
 * An RGB PNG of random pixels (noise does not compress, so its PNG variants stay megabytes),
 * written without sharp: this process loads the bundle's own copy of sharp.
 */
function noisePng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const framed = Buffer.alloc(body.length + 8);
    framed.writeUInt32BE(data.length, 0);
    body.copy(framed, 4);
    framed.writeUInt32BE(crc32(body), body.length + 4);
    return framed;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per sample, RGB, deflate, no filter, no interlace
  const rows = Buffer.concat(Array.from({ length: height }, () => Buffer.concat([Buffer.from([0]), randomBytes(width * 3)])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

async function put(key: string, body: Buffer, contentType: string) {
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: contentType }));
}

/** Runs a handler and returns its result with the checker's verdict on it. */
async function run<E extends CloudFrontRequestEvent | CloudFrontResponseEvent>(eventType: EdgeEventType, handler: Handler<E>, event: E) {
  const cf = event.Records[0]!.cf;
  const given = structuredClone({ request: cf.request, response: "response" in cf ? cf.response : undefined });
  const result = await handler(event);
  return { result, violations: checkEdgeResult(eventType, given, result) };
}

/**
 * The documented viewer-request example for `uri?querystring`, then (when it rewrites) the
 * documented S3 origin-response example for the rewritten request, S3 having answered `status`.
 */
async function throughTheEdge(uri: string, querystring: string, status: 403 | 404 = 404) {
  const viewerEvent = exampleEvent<CloudFrontRequestEvent>("viewer-request");
  Object.assign(viewerEvent.Records[0]!.cf.request, { uri, querystring });
  viewerEvent.Records[0]!.cf.request.headers.accept = [{ key: "accept", value: "image/webp,*/*" }];
  const viewer = await run("viewer-request", viewerRequest, viewerEvent);
  if (isGeneratedResponse(viewer.result)) return { viewer, origin: undefined };
  const rewritten = viewer.result as CloudFrontRequest;
  const originEvent = exampleEvent<CloudFrontResponseEvent>(`origin-response-s3-${status}`);
  const originRequest = originEvent.Records[0]!.cf.request;
  originRequest.uri = rewritten.uri;
  // The origin request policy forwards the viewer URL header, and only it.
  const viewerUrl = rewritten.headers[VIEWER_URL_HEADER];
  if (viewerUrl) originRequest.headers[VIEWER_URL_HEADER] = viewerUrl;
  return { viewer, origin: await run("origin-response", originResponse, originEvent) };
}

/** The documented S3 origin-response example for `uri` as it is (a forged or an original's key). */
async function originOnly(uri: string, status: 403 | 404 = 404) {
  const event = exampleEvent<CloudFrontResponseEvent>(`origin-response-s3-${status}`);
  event.Records[0]!.cf.request.uri = uri;
  return run("origin-response", originResponse, event);
}

const statusOf = (r: EdgeResult | undefined) => (r as CloudFrontResultResponse | undefined)?.status;

test("the documented viewer-request example passes the checker as it is", async (t) => {
  const { result, violations } = await run("viewer-request", viewerRequest, exampleEvent<CloudFrontRequestEvent>("viewer-request"));
  t.deepEqual(violations, []);
  t.log(`"/" answered ${isGeneratedResponse(result) ? `${result.status} ${result.body?.trim()}` : "by passing the request on"}`);
});

test("every answer the built bundles give to documented events passes the checker", async (t) => {
  const cases: Array<{
    what: string;
    run: () => Promise<{ viewer?: { violations: string[] }; origin?: { result: EdgeResult; violations: string[] } }>;
    status: string;
  }> = [
    { what: "a small variant", run: () => throughTheEdge("/images/cat.jpg", "d=100x100"), status: "200" },
    { what: "a small variant after S3's 403", run: () => throughTheEdge("/unsafe/80x80/images/cat.jpg", "", 403), status: "200" },
    { what: "a variant over 1 MB", run: () => throughTheEdge("/unsafe/0x0/filters:format(png)/images/noise.png", ""), status: "302" },
    { what: "a missing original", run: () => throughTheEdge("/images/missing.jpg", "d=100x100"), status: "404" },
    { what: "a non-image original", run: () => throughTheEdge("/images/not-an-image.jpg", "d=100x100", 403), status: "400" },
    {
      what: "a forged key",
      run: async () => ({ origin: await originOnly("/variants/images/cat.jpg/100x100,q80,smart.webp") }),
      status: "400",
    },
    { what: "a missing original object", run: async () => ({ origin: await originOnly("/images/missing.jpg", 403) }), status: "403" },
  ];
  for (const c of cases) {
    const { viewer, origin } = await c.run();
    t.deepEqual(viewer?.violations ?? [], [], `${c.what}: viewer-request`);
    t.deepEqual(origin?.violations, [], `${c.what}: origin-response`);
    t.is(statusOf(origin?.result), c.status, c.what);
    // Made from S3's answer: its read-only headers are still there.
    const headers = (origin?.result as CloudFrontResultResponse | undefined)?.headers ?? {};
    t.is(headers["transfer-encoding"]?.[0]?.value, "chunked", c.what);
    t.regex(headers.via?.[0]?.value ?? "", /CloudFront/, c.what);
  }
  // The bundle's own S3 client signed every request it made, as AWS checks it.
  t.deepEqual(s3.signatures.refused, []);
  t.true(
    s3.signatures.verified.some((r) => r.startsWith(`PUT /${BUCKET}/variants/`)),
    s3.signatures.verified.join(" "),
  );
});

test("a viewer-request refusal (its own 400) passes the checker and stays under 40 KB", async (t) => {
  const { viewer } = await throughTheEdge("/unsafe/99999x1/images/cat.jpg", "");
  t.deepEqual(viewer.violations, []);
  t.is(statusOf(viewer.result), "400");
});
