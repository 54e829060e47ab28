import test from "ava";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import { createOriginResponseHandler } from "../../handlers/origin-response.js";
import { createViewerRequestHandler } from "../../handlers/viewer-request.js";
import { DEFAULT_SETTINGS, validateSettings, type Settings } from "../../handlers/core/settings.js";
import { newRequestId, originResponseEvent, s3ErrorAnswer, viewerRequestEvent, type Distribution } from "../../local/events.js";
import { checkEdgeResult } from "../../handlers/cloudfront/edge-rules.js";
import { checked } from "../helpers/edge-contract.js";
import type { S3HttpClient } from "../../handlers/s3/client.js";
import {
  LOCAL_REGION,
  S3RVER_CREDENTIALS,
  createHandlerS3Client,
  createS3Client,
  startEmbeddedS3,
  type EmbeddedS3,
} from "../../local/s3.js";

const BUCKET = "originals";
const distribution: Distribution = { domainName: "d1.cloudfront.net", distributionId: "E1", bucket: BUCKET, region: LOCAL_REGION };
const fixture = (name: string) => readFileSync(join(__dirname, "..", "fixtures", "images", name));

let s3: EmbeddedS3;
let client: S3Client;
let handlerClient: S3HttpClient;

test.before(async () => {
  s3 = await startEmbeddedS3(mkdtempSync(join(tmpdir(), "origin-response-")), BUCKET);
  client = createS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS });
  handlerClient = createHandlerS3Client(s3.endpoint);
  // An asymmetric photo-like original: red left half, blue right half, 800x600.
  const cat = await sharp({ create: { width: 800, height: 600, channels: 3, background: "#0000ff" } })
    .composite([{ input: { create: { width: 400, height: 600, channels: 3, background: "#ff0000" } }, left: 0, top: 0 }])
    .jpeg()
    .toBuffer();
  await put("images/cat.jpg", cat, "image/jpeg");
  await put("images/not-an-image.jpg", Buffer.from("<!doctype html><html><body>hello</body></html>"), "image/jpeg");
  await put("images/empty.jpg", Buffer.alloc(0), "image/jpeg");
  await put("images/bomb.png", fixture("16384x16384.png"), "image/png");
  await put("images/cmyk.jpg", fixture("cmyk.jpg"), "image/jpeg");
  await put("images/alpha.png", fixture("paletted-transparent.png"), "image/png");
  // Noise does not compress: a 2000x2000 noisy PNG is far over the 1 MB inline cap.
  const noise = randomBytes(2000 * 2000 * 3);
  await put(
    "images/noise.png",
    await sharp(noise, { raw: { width: 2000, height: 2000, channels: 3 } })
      .png()
      .toBuffer(),
    "image/png",
  );
});

test.after.always(async () => {
  client?.destroy();
  handlerClient?.destroy();
  await s3?.close();
});

async function put(key: string, body: Buffer, contentType: string) {
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: contentType }));
}

/**
 * Runs a viewer URL through viewer-request, then origin-response as CloudFront would after S3
 * answered `status` with its usual headers; both results must pass the edge contract's checker.
 */
async function edge(url: string, status: 403 | 404, settings: Settings = DEFAULT_SETTINGS, accept = "image/webp,*/*") {
  const viewer = await checked(createViewerRequestHandler(settings))(
    viewerRequestEvent({ method: "GET", url, rawHeaders: ["Accept", accept], clientIp: "127.0.0.1" }, distribution, newRequestId()),
  );
  if ("status" in viewer) throw new Error(`viewer-request answered ${viewer.status}`);
  const request = viewer as CloudFrontRequest;
  const originResponse = checked(createOriginResponseHandler(settings, { s3Client: () => handlerClient }));
  const out = await originResponse(originResponseEvent(request, s3ErrorAnswer(status), distribution, newRequestId()));
  return { request, out: out as CloudFrontResultResponse, key: decodeURIComponent(request.uri.slice(1)) };
}

const bodyOf = (out: CloudFrontResultResponse) => Buffer.from(out.body ?? "", out.bodyEncoding === "base64" ? "base64" : "utf8");

test("a missing variant (404) is made from the original, stored under its key, and answered", async (t) => {
  const { out, key } = await edge("/images/cat.jpg?d=300x200", 404);
  t.is(key, "variants/images/cat.jpg/300x200,q80.webp");
  t.is(out.status, "200");
  t.is(out.headers?.["content-type"]?.[0]?.value, "image/webp");
  t.is(out.headers?.["cache-control"]?.[0]?.value, DEFAULT_SETTINGS.cacheControl);
  const meta = await sharp(bodyOf(out)).metadata();
  t.is(meta.format, "webp");
  t.deepEqual([meta.width, meta.height], [300, 200]);
  const stored = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  t.is(stored.ContentType, "image/webp");
  t.is(stored.CacheControl, DEFAULT_SETTINGS.cacheControl);
  t.deepEqual(Buffer.from(await stored.Body!.transformToByteArray()), bodyOf(out));
});

test("403 (no ListBucket) is treated like 404, and the thumbor URL gives the same stored variant", async (t) => {
  const { out, key } = await edge("/unsafe/300x200/images/cat.jpg", 403);
  t.is(key, "variants/images/cat.jpg/300x200,q80.webp");
  t.is(out.status, "200");
});

/** Fraction of red pixels in the middle row, and whether the first and last pixels are red. */
async function redProfile(image: Buffer) {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const row = Math.floor(info.height / 2) * info.width * info.channels;
  const red = (x: number) => data[row + x * info.channels] > 200 && data[row + x * info.channels + 2] < 60;
  let count = 0;
  for (let x = 0; x < info.width; x++) if (red(x)) count++;
  return { width: info.width, height: info.height, redFraction: count / info.width, firstRed: red(0), lastRed: red(info.width - 1) };
}

test("crop gravity and flips reach the picture", async (t) => {
  // 800x600 red|blue cut to a square: "left" keeps columns 0-600 (2/3 red), "right" 200-800 (1/3 red).
  const left = await redProfile(bodyOf((await edge("/unsafe/100x100/left/images/cat.jpg", 404, DEFAULT_SETTINGS, "*/*")).out));
  t.deepEqual([left.width, left.height], [100, 100]);
  t.true(Math.abs(left.redFraction - 2 / 3) < 0.05, String(left.redFraction));
  t.true(left.firstRed && !left.lastRed);
  const right = await redProfile(bodyOf((await edge("/unsafe/100x100/right/images/cat.jpg", 404, DEFAULT_SETTINGS, "*/*")).out));
  t.true(Math.abs(right.redFraction - 1 / 3) < 0.05, String(right.redFraction));
  const flipped = await redProfile(bodyOf((await edge("/unsafe/-100x100/left/images/cat.jpg", 404, DEFAULT_SETTINGS, "*/*")).out));
  t.true(Math.abs(flipped.redFraction - 2 / 3) < 0.05);
  t.true(!flipped.firstRed && flipped.lastRed, "the horizontal flip puts red on the right");
  const { out } = await edge("/unsafe/100x100/images/cat.jpg", 404, DEFAULT_SETTINGS, "*/*");
  t.is((await sharp(bodyOf(out)).metadata()).format, "jpeg", "*/* keeps the original's format");
});

test("responses pass through when S3 had the object, or when the key is not a variant", async (t) => {
  const request = { clientIp: "1.1.1.1", method: "GET", uri: "/variants/images/cat.jpg/300x200,q80.webp", querystring: "", headers: {} };
  const handler = checked(createOriginResponseHandler(DEFAULT_SETTINGS, { s3Client: () => handlerClient }));
  const ok = { status: 200, statusDescription: "OK", headers: { "content-type": [{ key: "Content-Type", value: "image/webp" }] } };
  const passed = await handler(originResponseEvent(request, ok, distribution, newRequestId()));
  t.is(passed.status, "200");
  t.is(passed.body, undefined);
  const original = await handler(
    originResponseEvent({ ...request, uri: "/images/missing.jpg" }, s3ErrorAnswer(404), distribution, newRequestId()),
  );
  t.is(original.status, "404");
  t.is(original.body, undefined, "S3's own 404 for a missing original");
});

test("bad originals get a clear 4xx with the short error cache lifetime, and nothing is stored", async (t) => {
  const cases: Array<[string, string]> = [
    ["/images/missing.jpg?d=100x100", "404"],
    ["/images/not-an-image.jpg?d=100x100", "400"],
    ["/images/empty.jpg?d=100x100", "400"],
  ];
  for (const [url, status] of cases) {
    const { out, key } = await edge(url, 404);
    t.is(out.status, status, url);
    t.is(out.headers?.["cache-control"]?.[0]?.value, DEFAULT_SETTINGS.errorCacheControl, url);
    const err = await t.throwsAsync(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })));
    t.is((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 404, `${url}: no variant stored`);
  }
  const bomb = await edge("/images/bomb.png?d=100x100", 404);
  t.true(["400", "413"].includes(bomb.out.status), `pixel bomb answered ${bomb.out.status}`);
});

test("CMYK originals come out sRGB; alpha is kept for formats that have it", async (t) => {
  const { out } = await edge("/unsafe/50x50/images/cmyk.jpg", 404);
  t.is((await sharp(bodyOf(out)).metadata()).space, "srgb");
  const { out: png } = await edge("/unsafe/150x0/filters:format(png)/images/alpha.png", 404);
  const meta = await sharp(bodyOf(png)).metadata();
  t.is(meta.format, "png");
  t.true(meta.hasAlpha);
});

test("a variant over the 1 MB generated-response cap is stored and the viewer is redirected to its own URL, no-store", async (t) => {
  const settings = validateSettings({});
  const { out, key } = await edge("/unsafe/2000x2000/filters:format(png)/images/noise.png", 404, settings);
  t.is(out.status, "302");
  t.is(out.headers?.location?.[0]?.value, "/unsafe/2000x2000/filters:format(png)/images/noise.png");
  t.is(out.headers?.["cache-control"]?.[0]?.value, "no-store");
  const stored = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  t.true((stored.ContentLength ?? 0) > 1_000_000);
});

test("answers are S3's response changed in place: Transfer-Encoding, Via and S3's ids kept, the XML body's headers gone", async (t) => {
  const made = await edge("/images/cat.jpg?d=120x80", 404);
  const refused = await edge("/images/not-an-image.jpg?d=100x100", 403);
  // Not the 2000x2000 of the test above: both run at once, and s3rver (unlike S3) shows a PUT's
  // object half-written to a HEAD made meanwhile.
  const redirected = await edge("/unsafe/1999x2000/filters:format(png)/images/noise.png", 404);
  for (const { out } of [made, refused, redirected]) {
    t.is(out.headers?.["transfer-encoding"]?.[0]?.value, "chunked", out.status);
    t.regex(out.headers?.via?.[0]?.value ?? "", /\(CloudFront\)$/, out.status);
    t.truthy(out.headers?.["x-amz-request-id"]?.[0]?.value, out.status);
    t.is(out.headers?.server?.[0]?.value, "AmazonS3", out.status);
    t.not(out.headers?.["content-type"]?.[0]?.value, "application/xml", `${out.status}: S3's error body is not what is sent`);
    t.not(out.body, undefined, `${out.status}: an answer of its own, never S3's XML body`);
  }
  t.deepEqual([made.out.status, refused.out.status, redirected.out.status], ["200", "400", "302"]);
  t.is(made.out.headers?.["content-type"]?.[0]?.value, "image/webp");
});

test("the checker catches the old defect: a brand-new response object drops S3's Transfer-Encoding and Via", async (t) => {
  const event = originResponseEvent(
    { clientIp: "1.1.1.1", method: "GET", uri: "/variants/images/cat.jpg/1x1,q80.jpg", querystring: "", headers: {} },
    s3ErrorAnswer(404),
    distribution,
    newRequestId(),
  );
  const given = structuredClone(event.Records[0]!.cf);
  const brandNew = {
    status: "200",
    statusDescription: "OK",
    headers: { "content-type": [{ key: "Content-Type", value: "image/jpeg" }] },
    body: "",
    bodyEncoding: "base64" as const,
  };
  const violations = checkEdgeResult("origin-response", given, brandNew);
  t.is(violations.length, 2);
  t.regex(violations[0]!, /origin-response: the function deleted read-only header Transfer-Encoding/);
  t.regex(violations[1]!, /origin-response: the function deleted read-only header Via/);
  const handler = checked(async () => brandNew);
  await t.throwsAsync(handler(event), { message: /CloudFront would answer 502 \(the Lambda function result failed validation\)/ });
});
