/**
 * Originals are images: the pass-through route of origin-response serves an S3 object only when
 * it is an image of ours (`originalContentTypes`, `originalsPrefix`, the types variants are
 * written with), and nothing outside `originalsPrefix` is read for a render, the watermark's
 * image included. The S3 objects here are S3's answers as CloudFront hands them to the function
 * (events), or a recording in-memory client where a render must read the bucket.
 */
import test from "ava";
import sharp from "sharp";
import type { CloudFrontHeaders, CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import { createOriginResponseHandler } from "../../handlers/origin-response.js";
import { createViewerRequestHandler } from "../../handlers/viewer-request.js";
import { createRequestPlanner } from "../../handlers/url/request-plan.js";
import { DEFAULT_SETTINGS, validateSettings, type Settings } from "../../handlers/core/settings.js";
import { variantKeyToUri } from "../../handlers/core/variant-key.js";
import { S3HttpClient, type S3Answer } from "../../handlers/s3/client.js";
import { newRequestId, originResponseEvent, s3ErrorAnswer, setHeader, viewerRequestEvent, type Distribution } from "../../local/events.js";
import { LOCAL_REGION } from "../../local/s3.js";
import { checked } from "../helpers/edge-contract.js";

const distribution: Distribution = { domainName: "d1.cloudfront.net", distributionId: "E1", bucket: "b", region: LOCAL_REGION };
const onlyImages = validateSettings({ originalsPrefix: "images" });

/** A bucket in memory that records every key read: a read that must not happen fails the test. */
class RecordingS3 extends S3HttpClient {
  readonly reads: string[] = [];
  readonly writes: string[] = [];
  constructor(private readonly objects: Map<string, Buffer>) {
    super({ region: LOCAL_REGION, endpoint: "http://127.0.0.1:9", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
  }
  override async get(_bucket: string, key: string): Promise<S3Answer> {
    this.reads.push(key);
    const body = this.objects.get(key);
    if (!body) return { status: 404, headers: {}, body: Buffer.from("<Error><Code>NoSuchKey</Code></Error>") };
    return { status: 200, headers: { "content-length": String(body.length) }, body };
  }
  override async put(_bucket: string, key: string): Promise<S3Answer> {
    this.writes.push(key);
    return { status: 200, headers: {}, body: Buffer.alloc(0) };
  }
}

function request(uri: string): CloudFrontRequest {
  return { clientIp: "192.0.2.1", method: "GET", uri, querystring: "", headers: {} };
}

/** S3's 200 (or `status`) for `uri` stored with `contentType` (none when undefined), through origin-response. */
async function served(uri: string, contentType: string | undefined, settings: Settings = DEFAULT_SETTINGS, status = 200) {
  const headers: CloudFrontHeaders = {};
  if (contentType !== undefined) setHeader(headers, "Content-Type", contentType);
  setHeader(headers, "Content-Length", "1234");
  setHeader(headers, "ETag", '"0123456789abcdef0123456789abcdef"');
  setHeader(headers, "Server", "AmazonS3");
  const answer = { status, statusDescription: status === 206 ? "Partial Content" : status === 304 ? "Not Modified" : "OK", headers };
  const handler = checked(createOriginResponseHandler(settings, { s3Client: () => new RecordingS3(new Map()) }));
  return handler(originResponseEvent(request(uri), answer, distribution, newRequestId()));
}

function assertNotAnImage(t: import("ava").ExecutionContext, out: CloudFrontResultResponse, what: string) {
  t.is(out.status, "404", what);
  t.is(out.body, "404 not an image\n", what);
  t.is(out.headers?.["content-type"]?.[0]?.value, "text/plain; charset=utf-8", `${what}: the stored type is gone`);
  t.is(out.headers?.["cache-control"]?.[0]?.value, DEFAULT_SETTINGS.errorCacheControl, `${what}: short error lifetime`);
  t.is(out.headers?.etag, undefined, `${what}: the object's ETag is gone`);
}

test("an S3 object that is not an image is a 404, not its bytes: JSON, HTML, script, SVG, no type, octet-stream", async (t) => {
  for (const [uri, type] of [
    ["/priv/secrets.json", "application/json"],
    ["/index.html", "text/html; charset=utf-8"],
    ["/app.js", "text/javascript"],
    ["/script.svg", "image/svg+xml"],
    ["/images/untyped.jpg", undefined],
    ["/images/upload.jpg", "binary/octet-stream"],
    ["/images/cat.jpg", "text/html"],
  ] as const) {
    assertNotAnImage(t, await served(uri, type), `${uri} (${type})`);
  }
});

test("images of the allow-list pass untouched, whatever the spelling of their type", async (t) => {
  for (const type of ["image/jpeg", "image/png", "image/webp", "image/avif", "image/gif", "image/tiff", "IMAGE/JPEG; charset=binary"]) {
    const out = await served("/images/cat.jpg", type);
    t.is(out.status, "200", type);
    t.is(out.body, undefined, `${type}: S3's own body goes on`);
    t.is(out.headers?.["content-type"]?.[0]?.value, type);
  }
});

test("originalContentTypes decides: SVG and untyped uploads are served when a team adds them", async (t) => {
  const open = validateSettings({ originalContentTypes: ["image/jpeg", "image/svg+xml", "binary/octet-stream"] });
  t.is((await served("/logo.svg", "image/svg+xml", open)).status, "200");
  t.is((await served("/images/upload.jpg", "binary/octet-stream", open)).status, "200");
  assertNotAnImage(t, await served("/images/cat.png", "image/png", open), "png left out of the list");
});

test("a range answer (206) is checked like a 200; a 304 revalidation passes as it is", async (t) => {
  assertNotAnImage(t, await served("/priv/secrets.json", "application/json", DEFAULT_SETTINGS, 206), "206");
  t.is((await served("/images/cat.jpg", "image/jpeg", DEFAULT_SETTINGS, 206)).status, "206");
  const revalidated = await served("/priv/secrets.json", undefined, DEFAULT_SETTINGS, 304);
  t.is(revalidated.status, "304", "a 304 carries no body; what it refreshes was checked when it was cached");
});

test("a stored variant passes with a type variants are written with, and only then", async (t) => {
  t.is((await served("/variants/images/cat.jpg/300x200,q80.webp", "image/webp")).status, "200");
  t.is((await served("/variants/images/cat.jpg/meta,300x200,q80.json", "application/json")).status, "200");
  assertNotAnImage(t, await served("/variants/evil.html", "text/html"), "HTML under the variant prefix");
});

test("with originalsPrefix, objects outside it are 404 even when they are images", async (t) => {
  assertNotAnImage(t, await served("/priv/cat.jpg", "image/jpeg", onlyImages), "outside the prefix");
  assertNotAnImage(t, await served("/imagesX/cat.jpg", "image/jpeg", onlyImages), "a look-alike prefix");
  t.is((await served("/images/cat.jpg", "image/jpeg", onlyImages)).status, "200");
});

test("viewer-request refuses keys outside originalsPrefix before any origin trip, for every route", async (t) => {
  const viewer = createViewerRequestHandler(onlyImages);
  for (const url of [
    "/priv/secrets.json",
    "/priv/cat.jpg?d=100x100",
    "/unsafe/100x100/priv/cat.jpg",
    "/variants/priv/cat.jpg/100x100,q80.jpg",
  ]) {
    const [uri, querystring = ""] = url.split("?");
    const event = viewerRequestEvent({ method: "GET", url, rawHeaders: [], clientIp: "192.0.2.1" }, distribution, newRequestId());
    event.Records[0]!.cf.request.querystring = querystring;
    event.Records[0]!.cf.request.uri = uri!;
    const out = (await viewer(event)) as CloudFrontResultResponse;
    t.is(out.status, "404", url);
    t.is(out.body, "404 not an original\n", url);
  }
  const passed = await viewer(
    viewerRequestEvent({ method: "GET", url: "/images/cat.jpg", rawHeaders: [], clientIp: "192.0.2.1" }, distribution, newRequestId()),
  );
  t.is((passed as CloudFrontRequest).uri, "/images/cat.jpg");
});

test("origin-response renders nothing outside originalsPrefix: a forged key reads nothing, a watermark from outside is never read", async (t) => {
  const cat = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#c00" } })
    .jpeg()
    .toBuffer();
  const s3 = new RecordingS3(
    new Map([
      ["images/cat.jpg", cat],
      ["priv/cat.jpg", cat],
      ["priv/logo.png", cat],
      ["images/logo.png", cat],
    ]),
  );
  const handler = checked(createOriginResponseHandler(onlyImages, { s3Client: () => s3 }));
  const miss = (key: string) =>
    handler(originResponseEvent(request(variantKeyToUri(key)), s3ErrorAnswer(404), distribution, newRequestId()));
  const planner = createRequestPlanner(DEFAULT_SETTINGS);
  const keyOf = (path: string) => {
    const route = planner.plan(path, "", undefined);
    if (route.kind !== "variant") throw new Error(path);
    return route.key;
  };

  const forged = await miss(keyOf("/unsafe/32x24/priv/cat.jpg"));
  t.is(forged.status, "404");
  t.is(forged.body, "404 not an original\n");
  const outsideMark = await miss(keyOf("/unsafe/32x24/filters:watermark(priv/logo.png,0,0,0)/images/cat.jpg"));
  t.is(outsideMark.status, "400", outsideMark.body);
  // The original is read (after its intermediate is looked up, under the variant prefix); no priv/ key is.
  t.deepEqual(
    s3.reads.filter((key) => !key.startsWith("variants/")),
    ["images/cat.jpg"],
    "neither priv/ key was read",
  );
  t.deepEqual(s3.writes, []);

  const insideMark = await miss(keyOf("/unsafe/32x24/filters:watermark(images/logo.png,0,0,0)/images/cat.jpg"));
  t.is(insideMark.status, "200", insideMark.body);
  t.deepEqual(
    s3.reads.filter((key) => !key.startsWith("variants/")),
    ["images/cat.jpg", "images/cat.jpg", "images/logo.png"],
  );
});
