/**
 * Forged variant keys sent straight to BOTH handlers.
 *
 * viewer-request must refuse a directly requested key that an unsigned request could not have
 * made (when unsafe URLs are off), and any key over the limits or not canonical. origin-response
 * must hold the limits on its own (maxWidth/maxHeight/maxInputPixels), even for an event that
 * never went through viewer-request, refuse non-canonical keys, and never write outside the
 * variant prefix nor over an original. Everything runs against a real embedded s3rver.
 * (tests/url/request-plan.test.ts has the basic direct-key cases; these go further and end in S3.)
 */
import test from "ava";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import { VIEWER_URL_HEADER } from "../../handlers/cloudfront/plumbing.js";
import { createOriginResponseHandler } from "../../handlers/origin-response.js";
import { createViewerRequestHandler } from "../../handlers/viewer-request.js";
import { DEFAULT_SETTINGS, validateSettings, type Settings } from "../../handlers/core/settings.js";
import { variantKeyToUri } from "../../handlers/core/variant-key.js";
import { newRequestId, originResponseEvent, viewerRequestEvent, s3ErrorAnswer, type Distribution } from "../../local/events.js";
import type { S3HttpClient } from "../../handlers/s3/client.js";
import {
  LOCAL_REGION,
  S3RVER_CREDENTIALS,
  createHandlerS3Client,
  createS3Client,
  startEmbeddedS3,
  type EmbeddedS3,
} from "../../local/s3.js";
import { checked } from "../helpers/edge-contract.js";

const BUCKET = "originals";
const distribution: Distribution = { domainName: "d1.cloudfront.net", distributionId: "E1", bucket: BUCKET, region: LOCAL_REGION };
/** Production-like: only signed thumbor URLs, and ?d= sizes from an allow-list. */
const LOCKED = validateSettings({ sizes: ["300x200", "640x0"], thumbor: { allowUnsafe: false, securityKey: "forge-test-key" } });

let s3: EmbeddedS3;
let client: S3Client;
let handlerClient: S3HttpClient;
let dataDir: string;
/** ETag of every original, taken after upload: compared at the end (originals are never written). */
const originalEtags = new Map<string, string>();

test.before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "hostile-forged-"));
  s3 = await startEmbeddedS3(dataDir, BUCKET);
  client = createS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS });
  handlerClient = createHandlerS3Client(s3.endpoint);
  const cat = await sharp({ create: { width: 800, height: 600, channels: 3, background: "#3060c0" } })
    .jpeg()
    .toBuffer();
  const wide = await sharp({ create: { width: 5000, height: 100, channels: 3, background: "#30c060" } })
    .png()
    .toBuffer();
  // Noise does not compress: 700x700 RGB as PNG is about 1.5 MB, over the 1 MB inline cap.
  const noise = await sharp(randomBytes(700 * 700 * 3), { raw: { width: 700, height: 700, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  for (const [key, body] of [
    ["images/cat.jpg", cat],
    ["images/wide.png", wide],
    ["images/noise.png", noise],
  ] as const) {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  }
  for (const o of await list("")) originalEtags.set(o.key, o.etag);
});

test.after.always(async () => {
  client?.destroy();
  handlerClient?.destroy();
  await s3?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function list(prefix: string): Promise<{ key: string; etag: string }[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => ({ key: o.Key!, etag: o.ETag! })).sort((a, b) => a.key.localeCompare(b.key));
}

const isResponse = (r: CloudFrontRequest | CloudFrontResultResponse): r is CloudFrontResultResponse => "status" in r;

async function viewer(uri: string, settings: Settings) {
  return checked(createViewerRequestHandler(settings))(
    viewerRequestEvent(
      { method: "GET", url: uri, rawHeaders: ["Accept", "image/webp,*/*"], clientIp: "198.51.100.7" },
      distribution,
      newRequestId(),
    ),
  );
}

/** origin-response for `uri` as if S3 had answered 404, with no viewer-request before it. */
async function originDirect(uri: string, settings: Settings, extraHeaders: Record<string, string> = {}): Promise<CloudFrontResultResponse> {
  const request: CloudFrontRequest = {
    clientIp: "198.51.100.7",
    method: "GET",
    uri,
    querystring: "",
    headers: Object.fromEntries(Object.entries(extraHeaders).map(([k, v]) => [k.toLowerCase(), [{ key: k, value: v }]])),
  };
  const event = originResponseEvent(request, s3ErrorAnswer(404), distribution, newRequestId(), Object.keys(extraHeaders));
  return checked(createOriginResponseHandler(settings, { s3Client: () => handlerClient }))(event);
}

// ---- viewer-request ----

test("with unsafe URLs off, a directly requested key is served only when ?d= could have made it (403 otherwise)", async (t) => {
  const refused = [
    "variants/images/cat.jpg/301x200,q80.webp", // size not in the allow-list
    "variants/images/cat.jpg/640x480,q80.webp", // allowed width, other height
    "variants/images/cat.jpg/300x200,smart,q80.webp", // smart crop
    "variants/images/cat.jpg/300x200,grayscale(),q80.webp", // a filter
    "variants/images/cat.jpg/300x200,blur(150),q80.webp", // an expensive filter
    "variants/images/cat.jpg/300x200,q100.webp", // another quality than the default
    "variants/images/cat.jpg/300x200,q80.png", // a format ?d= never picks
    "variants/images/cat.jpg/-300x200,q80.webp", // a flip
    "variants/images/cat.jpg/300x200,fit-in,q80.webp", // a fit mode
    "variants/images/cat.jpg/300x200,crop:0x0:10x10,q80.webp", // a manual crop
    "variants/images/cat.jpg/300x200,trim:top-left:0,q80.webp", // trim
    "variants/images/cat.jpg/300x200,left,q80.webp", // alignment
    "variants/images/cat.jpg/300x200.json", // meta
    "variants/images/cat.jpg/origx200,q80.webp", // orig
  ];
  for (const key of refused) {
    const out = await viewer(variantKeyToUri(key), LOCKED);
    if (!isResponse(out)) return t.fail(`${key} was let through`);
    t.is(out.status, "403", key);
    t.is(out.headers?.["cache-control"]?.[0]?.value, LOCKED.errorCacheControl, key);
    // The same key is a valid variant with unsafe URLs on: the refusal is the policy, not the grammar.
    t.false(isResponse(await viewer(variantKeyToUri(key), DEFAULT_SETTINGS)), `${key} is valid under the defaults`);
  }
  for (const key of ["variants/images/cat.jpg/300x200,q80.webp", "variants/images/cat.jpg/640x0,q80.orig"]) {
    const out = await viewer(variantKeyToUri(key), LOCKED);
    t.false(isResponse(out), `${key} is what ?d= makes`);
  }
});

test("with unsafe URLs off, a direct key's format must be one ?d= negotiates under these settings", async (t) => {
  const avif = variantKeyToUri("variants/images/cat.jpg/300x200,q80.avif");
  const webp = variantKeyToUri("variants/images/cat.jpg/300x200,q80.webp");
  const refusedAvif = await viewer(avif, LOCKED);
  t.true(isResponse(refusedAvif) && refusedAvif.status === "403", "autoAvif is off: ?d= never makes AVIF");
  t.false(isResponse(await viewer(avif, { ...LOCKED, autoAvif: true })), "autoAvif on: ?d= makes AVIF");
  const refusedWebp = await viewer(webp, { ...LOCKED, autoWebp: false });
  t.true(isResponse(refusedWebp) && refusedWebp.status === "403", "autoWebp is off: ?d= never makes WebP");
});

test("over-max and non-canonical keys are refused by viewer-request under any settings (400)", async (t) => {
  const bad = [
    "variants/images/cat.jpg/4097x200,q80.webp",
    "variants/images/cat.jpg/200x4097,q80.webp",
    "variants/images/cat.jpg/99999x99999,fit-in,q80.webp",
    "variants/images/cat.jpg/300x200,q080.webp",
    "variants/images/cat.jpg/0300x200,q80.webp",
    "variants/images/cat.jpg/300x200,smart,left,q80.webp",
    "variants/images/cat.jpg/300x200,q80,grayscale().webp",
    "variants/images/cat.jpg/300x200.webp",
    "variants/images/cat.jpg/300x200,q80.jpeg",
    "variants/images/cat.jpg/300x200,q80.exe",
    "variants/images/../cat.jpg/300x200,q80.webp",
    "variants/images//cat.jpg/300x200,q80.webp",
    "variants/300x200,q80.webp",
  ];
  for (const key of bad) {
    const out = await viewer(variantKeyToUri(key), DEFAULT_SETTINGS);
    if (!isResponse(out)) return t.fail(`${key} was let through`);
    t.is(out.status, "400", key);
    // Locked down, a well-formed over-max key is already outside the policy (403); a malformed one is 400.
    const locked = await viewer(variantKeyToUri(key), LOCKED);
    if (!isResponse(locked)) return t.fail(`${key} was let through when locked`);
    t.true(locked.status === "400" || locked.status === "403", `${key}: ${locked.status}`);
  }
});

// ---- origin-response, skipping viewer-request ----

test("origin-response holds maxWidth/maxHeight on the plan it decodes, whatever the output would be", async (t) => {
  const cases: Array<[string, RegExp]> = [
    ["variants/images/cat.jpg/5000x10,q80.jpg", /5000/], // crop mode: the output itself would be too wide
    ["variants/images/cat.jpg/5000x5000,fit-in,q80.jpg", /5000/], // fit-in: the output would be 800x600, the plan is still over
    ["variants/images/cat.jpg/0x9999,adaptive-full-fit-in,q80.jpg", /9999/],
    ["variants/images/wide.png/origxorig,q80.png", /5000/], // the original's own size is over the maximum
    ["variants/images/cat.jpg/4096x4096,fit-in,fill('red),upscale(),q80.png", /./],
  ];
  const settings = validateSettings({ maxWidth: 4096, maxHeight: 4096 });
  for (const [key, reason] of cases) {
    const out = await originDirect(variantKeyToUri(key), settings);
    if (out.status === "200") {
      const meta = await sharp(Buffer.from(out.body ?? "", "base64")).metadata();
      // A 4096 box is within the limits; anything rendered must be too.
      t.true(
        (meta.width ?? 0) <= 4096 && (meta.height ?? 0) <= 4096 && !/5000|9999/.test(key),
        `${key} rendered ${meta.width}x${meta.height}`,
      );
      continue;
    }
    t.is(out.status, "400", key);
    t.regex(out.body ?? "", reason, key);
    t.is(out.headers?.["cache-control"]?.[0]?.value, settings.errorCacheControl, key);
    t.deepEqual(await list(key), [], `${key} was not stored`);
  }
});

test("origin-response holds maxInputPixels on its own: refused from the header, nothing stored", async (t) => {
  const tight = validateSettings({ maxInputPixels: 400_000 }); // the 800x600 original is 480 000 px
  const key = "variants/images/cat.jpg/10x10,q80.jpg";
  const out = await originDirect(variantKeyToUri(key), tight);
  t.is(out.status, "400");
  t.regex(out.body ?? "", /image too large: 800x600 px exceeds maxInputPixels 400000/);
  t.deepEqual(await list(key), []);
  // The same key under the default limit renders: the limit, not the key, refused it.
  t.is((await originDirect(variantKeyToUri(key), DEFAULT_SETTINGS)).status, "200");
  t.is((await list(key)).length, 1);
});

test("origin-response refuses non-canonical and malformed keys with 400 and writes nothing", async (t) => {
  const keys = [
    "variants/images/cat.jpg/300x200,q080.webp",
    "variants/images/cat.jpg/300x200,smart,left,q80.webp",
    "variants/images/cat.jpg/300x200,q80,q80.webp",
    "variants/images/cat.jpg/300x200,blur('a,b),q80.webp",
    "variants/images/cat.jpg/300x200,q80.jpeg",
    "variants/images/cat.jpg/300x200",
    "variants/images/../cat.jpg/300x200,q80.webp",
    "variants/images/cat.jpg/../../cat.jpg",
    "variants/images//cat.jpg/300x200,q80.webp",
    "variants/images/cat.jpg\u0000/300x200,q80.webp",
  ];
  for (const key of keys) {
    const out = await originDirect(variantKeyToUri(key), DEFAULT_SETTINGS);
    t.is(out.status, "400", key);
    t.regex(out.body ?? "", /^400 not a variant key|^400 image path|^400 path contains a control character/, key);
  }
  t.deepEqual(
    (await list("variants/")).filter((o) => o.key.includes("300x200")),
    [],
  );
});

test("origin-response renders only the canonical spelling of a key: any other spelling is a 400 and stores nothing", async (t) => {
  const key = "variants/images/cat.jpg/310x200,q80.webp";
  for (const uri of [
    "/%76ariants/images/cat.jpg/310x200,q80.webp",
    "/variants%2Fimages/cat.jpg/310x200,q80.webp",
    "/variants/images/cat.jpg/310x200%2Cq80.webp",
    "/variants/images/cat%2ejpg/310x200,q80.webp",
    "/variants/images/%63at.jpg/310x200,q80.webp",
  ]) {
    const out = await originDirect(uri, DEFAULT_SETTINGS);
    t.is(out.status, "400", uri);
    t.regex(out.body ?? "", /not in canonical form; its canonical spelling is \/variants\/images\/cat\.jpg\/310x200,q80\.webp/, uri);
  }
  t.deepEqual(await list(key), []);
  t.is((await originDirect(variantKeyToUri(key), DEFAULT_SETTINGS)).status, "200", "the canonical spelling renders");
  t.is((await list(key)).length, 1);
});

test("origin-response leaves keys outside the prefix alone: S3's own answer, nothing written", async (t) => {
  for (const uri of [
    "/images/cat.jpg",
    "/images/missing.jpg",
    "/variantsx/images/cat.jpg/10x10,q80.jpg",
    "/Variants/images/cat.jpg/10x10,q80.jpg",
    "/%ZZ",
    "/",
  ]) {
    const out = await originDirect(uri, DEFAULT_SETTINGS);
    t.is(out.status, "404", uri);
    t.is(out.body, undefined, `${uri}: passed through`);
  }
  const outside = (await list("")).filter((o) => !o.key.startsWith("variants/") && !originalEtags.has(o.key));
  t.deepEqual(outside, [], "no object was created outside the variant prefix");
});

test("a forged viewer-URL header cannot steer origin-response's redirect off-site", async (t) => {
  const key = "variants/images/noise.png/0x0,q80.png";
  for (const forged of [
    "//evil.example/x.png",
    "https://evil.example/",
    "/\\evil.example",
    "/ok\r\nSet-Cookie: a=b",
    "javascript:alert(1)",
  ]) {
    await rmVariant(key);
    const out = await originDirect(variantKeyToUri(key), DEFAULT_SETTINGS, { [VIEWER_URL_HEADER]: forged });
    t.is(out.status, "302", forged);
    t.is(out.headers?.location?.[0]?.value, variantKeyToUri(key), `${JSON.stringify(forged)} replaced by the key's own URI`);
    t.is(out.headers?.["cache-control"]?.[0]?.value, "no-store");
  }
  const same = await originDirect(variantKeyToUri("variants/images/noise.png/700x0,q80.png"), DEFAULT_SETTINGS, {
    [VIEWER_URL_HEADER]: "/unsafe/700x0/filters:format(png)/images/noise.png",
  });
  t.is(same.status, "302");
  t.is(same.headers?.location?.[0]?.value, "/unsafe/700x0/filters:format(png)/images/noise.png", "a same-site path is kept");
});

async function rmVariant(key: string): Promise<void> {
  const { DeleteObjectCommand } = await import("@aws-sdk/client-s3");
  await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
}

test.after("originals were never written, and every stored object is a decodable variant under the prefix", async (t) => {
  const all = await list("");
  for (const [key, etag] of originalEtags) t.is(all.find((o) => o.key === key)?.etag, etag, `${key} unchanged`);
  for (const o of all.filter((o) => !originalEtags.has(o.key))) {
    t.true(o.key.startsWith("variants/"), o.key);
    const { GetObjectCommand } = await import("@aws-sdk/client-s3");
    const body = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.key }))).Body!.transformToByteArray());
    const meta = await sharp(body).metadata();
    t.true((meta.width ?? 0) > 0 && (meta.width ?? 0) <= 4096 && (meta.height ?? 0) <= 4096, o.key);
  }
});
