/**
 * Untrusted originals through BOTH handlers and a real embedded s3rver (the
 * pipeline alone is covered by tests/render/hostile-inputs.test.ts; here the same kinds of input
 * arrive the way production sees them: a viewer URL, viewer-request, S3, origin-response).
 *
 * Hostile originals get a clear 4xx with the short error cache lifetime and nothing is stored;
 * pixel bombs are refused from their header (our own message, with the numbers) and, in a child
 * process, without the memory that decoding them would take. Awkward but valid originals (CMYK,
 * 16-bit, grayscale, palette with transparency, every EXIF orientation, animations) work.
 */
import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import { createOriginResponseHandler } from "../../handlers/origin-response.js";
import { createViewerRequestHandler } from "../../handlers/viewer-request.js";
import { DEFAULT_SETTINGS, validateSettings, type Settings } from "../../handlers/core/settings.js";
import { uriToKey } from "../../handlers/core/variant-key.js";
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
import { assertPixel, PIXEL_TOLERANCE } from "../helpers/assert-pixel.js";
import { BLUE, GREEN, RED, WHITE, pixelAt, quadrantPixels } from "../helpers/images.js";
import { checked } from "../helpers/edge-contract.js";

const REPO = resolve(__dirname, "..", "..");
const BUCKET = "originals";
const distribution: Distribution = { domainName: "d1.cloudfront.net", distributionId: "E1", bucket: BUCKET, region: LOCAL_REGION };
const fixture = (name: string) => readFileSync(join(__dirname, "..", "fixtures", "images", name));
const WEBP = "image/avif;q=0,image/webp,*/*;q=0.8";

let s3: EmbeddedS3;
let client: S3Client;
let handlerClient: S3HttpClient;
let dataDir: string;
const originalEtags = new Map<string, string>();

/** A W x H quadrant image (red, green / blue, white) stored so that EXIF orientation `o` shows it upright. */
async function orientedJpeg(o: number, w = 40, h = 20): Promise<Buffer> {
  const upright = sharp(quadrantPixels(w, h), { raw: { width: w, height: h, channels: 3 } });
  const step = async (img: sharp.Sharp, op: (s: sharp.Sharp) => sharp.Sharp) => {
    const { data, info } = await op(img).raw().toBuffer({ resolveWithObject: true });
    return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } });
  };
  // The inverse of what the tag asks the viewer to do (EXIF: 2 mirror, 3 rotate 180, 4 flip,
  // 5 transpose, 6 rotate 90 CW, 7 transverse, 8 rotate 270 CW).
  const inverse: Record<number, (s: sharp.Sharp) => Promise<sharp.Sharp>> = {
    1: async (s) => s,
    2: (s) => step(s, (x) => x.flop()),
    3: (s) => step(s, (x) => x.rotate(180)),
    4: (s) => step(s, (x) => x.flip()),
    5: async (s) => step(await step(s, (x) => x.rotate(90)), (x) => x.flop()),
    6: (s) => step(s, (x) => x.rotate(270)),
    7: async (s) => step(await step(s, (x) => x.rotate(270)), (x) => x.flop()),
    8: (s) => step(s, (x) => x.rotate(90)),
  };
  return (await inverse[o]!(upright)).withMetadata({ orientation: o }).jpeg({ quality: 95 }).toBuffer();
}

test.before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "hostile-images-"));
  s3 = await startEmbeddedS3(dataDir, BUCKET);
  client = createS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS });
  handlerClient = createHandlerS3Client(s3.endpoint);
  const png = fixture("paletted-transparent.png");
  const objects: Array<[string, Buffer, string]> = [
    ["bad/bomb.png", fixture("16384x16384.png"), "image/png"],
    ["bad/bomb.jpg", fixture("9643x10328.jpg"), "image/jpeg"],
    ["bad/empty.jpg", Buffer.alloc(0), "image/jpeg"],
    ["bad/page.jpg", Buffer.from("<!DOCTYPE html><html><head><title>404</title></head><body>Not found</body></html>"), "image/jpeg"],
    ["bad/invalid.jpg", fixture("image_invalid.jpg"), "image/jpeg"],
    ["bad/random.png", Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 256)), "image/png"],
    ["bad/half.png", png.subarray(0, png.length / 2), "image/png"],
    ["bad/truncated.jpg", fixture("BlueSquare_truncated.jpg"), "image/jpeg"],
    ["bad/heic.heic", fixture("image.heic"), "image/heic"],
    ["odd/skinny.png", fixture("940x2.png"), "image/png"],
    ["odd/animated.gif", fixture("animated.gif"), "image/gif"],
    ["odd/logo.svg", fixture("Commons-logo.svg"), "image/svg+xml"],
    ["ok/cmyk.jpg", fixture("cmyk.jpg"), "image/jpeg"],
    ["ok/16bit.png", fixture("16bit.png"), "image/png"],
    ["ok/16bit.tif", fixture("gradient_lsb_16bperchannel.tif"), "image/tiff"],
    ["ok/grayscale.jpg", fixture("grayscale.jpg"), "image/jpeg"],
    ["ok/palette.png", png, "image/png"],
  ];
  for (let o = 1; o <= 8; o++) objects.push([`ok/orientation-${o}.jpg`, await orientedJpeg(o), "image/jpeg"]);
  for (const [key, body, type] of objects)
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: type }));
  for (const o of (await client.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []) originalEtags.set(o.Key!, o.ETag!);
});

test.after.always(async () => {
  client?.destroy();
  handlerClient?.destroy();
  await s3?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const isResponse = (r: CloudFrontRequest | CloudFrontResultResponse): r is CloudFrontResultResponse => "status" in r;

/** A viewer URL through viewer-request, then (if it rewrote) origin-response after S3's 404. */
async function edge(
  url: string,
  settings: Settings = DEFAULT_SETTINGS,
  accept = WEBP,
): Promise<{ out: CloudFrontResultResponse; key?: string; at: "viewer" | "origin" }> {
  const viewer = await checked(createViewerRequestHandler(settings))(
    viewerRequestEvent({ method: "GET", url, rawHeaders: ["Accept", accept], clientIp: "203.0.113.5" }, distribution, newRequestId()),
  );
  if (isResponse(viewer)) return { out: viewer, at: "viewer" };
  const out = await checked(createOriginResponseHandler(settings, { s3Client: () => handlerClient }))(
    originResponseEvent(viewer, s3ErrorAnswer(404), distribution, newRequestId()),
  );
  return { out, key: uriToKey(viewer.uri), at: "origin" };
}

const bodyOf = (out: CloudFrontResultResponse) => Buffer.from(out.body ?? "", out.bodyEncoding === "base64" ? "base64" : "utf8");

async function stored(key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch {
    return false;
  }
}

/** Asserts a clear refusal: the status, a short reason, the short error lifetime, nothing stored. */
async function refused(
  t: import("ava").ExecutionContext,
  url: string,
  status: string,
  reason: RegExp,
  settings: Settings = DEFAULT_SETTINGS,
) {
  const { out, key } = await edge(url, settings);
  t.is(out.status, status, `${url}: ${(out.body ?? "").slice(0, 120)}`);
  t.regex(out.body ?? "", reason, url);
  t.true((out.body ?? "").length < 200 && !/\n\s+at /.test(out.body ?? ""), `${url}: short, no stack`);
  t.is(out.headers?.["cache-control"]?.[0]?.value, settings.errorCacheControl, url);
  if (key) t.false(await stored(key), `${url}: nothing stored`);
}

// ---- hostile originals ----

test("pixel bombs are refused from their header through the handlers (400, our message, nothing stored)", async (t) => {
  await refused(t, "/bad/bomb.png?d=100x100", "400", /^400 image too large: 16384x16384 px exceeds maxInputPixels 75000000\n$/);
  await refused(t, "/unsafe/100x100/bad/bomb.jpg", "400", /^400 image too large: 9643x10328 px exceeds maxInputPixels 75000000\n$/);
  await refused(t, "/unsafe/meta/bad/bomb.png", "400", /image too large/); // even the JSON metadata
  // Refusing from the header does not depend on how small the request is, nor on the output format.
  await refused(t, "/unsafe/1x1/filters:format(gif)/bad/bomb.png", "400", /image too large/);
});

test("pixel bombs are refused without the memory decoding would need (child process, maxRSS)", async (t) => {
  // In a fresh process: load the handlers, note RSS, run origin-response on each bomb, report the peak.
  const script = `
    const { createOriginResponseHandler } = require(${JSON.stringify(join(REPO, "handlers/origin-response.ts"))});
    const { createHandlerS3Client } = require(${JSON.stringify(join(REPO, "local/s3.ts"))});
    const { DEFAULT_SETTINGS } = require(${JSON.stringify(join(REPO, "handlers/core/settings.ts"))});
    (async () => {
      const client = createHandlerS3Client(process.env.S3_ENDPOINT);
      const handler = createOriginResponseHandler(DEFAULT_SETTINGS, { s3Client: () => client });
      const event = (uri) => ({ Records: [{ cf: { config: {}, request: { clientIp: "1.1.1.1", method: "GET", uri, querystring: "", headers: {},
        origin: { s3: { domainName: "${BUCKET}.s3.us-east-1.amazonaws.com", region: "us-east-1", authMethod: "origin-access-identity", path: "", customHeaders: {} } } },
        response: { status: "404", statusDescription: "Not Found", headers: {} } } }] });
      await handler(event("/variants/bad/empty.jpg/10x10,q80.jpg")); // warm up: sharp and the S3 client loaded
      const before = process.memoryUsage().rss;
      const statuses = [];
      for (const uri of ["/variants/bad/bomb.png/100x100,q80.png", "/variants/bad/bomb.jpg/100x100,q80.jpg"]) statuses.push((await handler(event(uri))).status);
      client.destroy();
      process.stdout.write(JSON.stringify({ statuses, before, maxRss: process.resourceUsage().maxRSS * 1024 }));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const child = spawn(process.execPath, ["--import=tsx", "-e", script], {
    cwd: REPO,
    env: { ...process.env, S3_ENDPOINT: s3.endpoint },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const code = await new Promise<number | null>((done) => child.on("exit", done));
  t.is(code, 0, stderr);
  const report = JSON.parse(stdout) as { statuses: string[]; before: number; maxRss: number };
  t.deepEqual(report.statuses, ["400", "400"]);
  // Decoded, the PNG bomb is 16384 x 16384 x 3 bytes = 805 MB and the JPEG 299 MB. The whole
  // process (Node, sharp, the SDK) stays below the smaller of the two.
  const mb = (n: number) => Math.round(n / 1e6);
  t.log(`child RSS after warm-up ${mb(report.before)} MB, peak ${mb(report.maxRss)} MB`);
  t.true(report.maxRss < 9643 * 10328 * 3, `peak RSS ${mb(report.maxRss)} MB`);
});

test("empty, HTML, one-byte, random, HEIC: 400 'not a supported image' through the handlers", async (t) => {
  for (const name of ["bad/empty.jpg", "bad/page.jpg", "bad/invalid.jpg", "bad/random.png", "bad/heic.heic"]) {
    await refused(t, `/unsafe/100x100/${name}`, "400", /^400 not a supported image: /);
  }
});

test("a truncated JPEG renders what is there (thumbor's LOAD_TRUNCATED_IMAGES); half a PNG renders or is a 400", async (t) => {
  const { out } = await edge("/unsafe/50x50/bad/truncated.jpg");
  t.is(out.status, "200");
  t.like(await sharp(bodyOf(out)).metadata(), { width: 50, height: 50 });
  const half = await edge("/unsafe/50x50/bad/half.png");
  t.true(half.out.status === "200" || half.out.status === "400", half.out.status);
  if (half.out.status === "200") t.like(await sharp(bodyOf(half.out)).metadata(), { width: 50, height: 50 });
  else t.false(await stored(half.key!));
});

test("huge outputs are refused before any work: over-max sides at the viewer, a skinny original blown up at the origin", async (t) => {
  await refused(t, "/unsafe/99999x99999/odd/skinny.png", "400", /width 99999 exceeds the maximum 4096/);
  await refused(t, "/odd/skinny.png?d=4097x1", "400", /width 4097 exceeds the maximum 4096/);
  // 940x2 scaled to 4096 high would be 1 925 120 px wide: only the origin knows the original's size.
  await refused(t, "/unsafe/0x4096/filters:upscale()/odd/skinny.png", "400", /exceeds the maximum 4096x4096/);
  await refused(t, "/unsafe/fit-in/0x4096/filters:upscale()/odd/skinny.png", "400", /exceeds the maximum 4096x4096/);
});

test("an animation over maxFrames is a 400 for animated output, its first frame otherwise", async (t) => {
  const oneFrame = validateSettings({ maxFrames: 1 });
  await refused(
    t,
    "/unsafe/50x50/filters:format(gif)/odd/animated.gif",
    "400",
    /^400 animated image has 2 frames, limit is 1\n$/,
    oneFrame,
  );
  await refused(t, "/unsafe/50x50/filters:format(webp)/odd/animated.gif", "400", /animated image has 2 frames/, oneFrame);
  const still = await edge("/unsafe/50x50/filters:format(png)/odd/animated.gif", oneFrame);
  t.is(still.out.status, "200");
  t.is((await sharp(bodyOf(still.out)).metadata()).pages ?? 1, 1);
});

test("an animation blown up to a large size is refused: every output frame counts against the pixel budget", async (t) => {
  // 2 frames of 100x100 (20 000 px in) asked at 1000x1000: 2 000 000 px out, over a 1 000 000 budget.
  // Measured without this rule: a 55 kB GIF of 100 frames at ?d=2000x2000 took 153 s and made 145 MB.
  const tight = validateSettings({ maxInputPixels: 1_000_000, maxWidth: 1000, maxHeight: 1000 });
  await refused(t, "/unsafe/1000x1000/filters:format(gif)/odd/animated.gif", "400", /animat.*2 frames/, tight);
  await refused(t, "/odd/animated.gif?d=1000x1000", "400", /animat.*2 frames/, tight); // animated WebP through Accept
  // The same sizes as a still image, or a smaller animation, are within the budget.
  t.is((await edge("/unsafe/1000x1000/filters:format(png)/odd/animated.gif", tight)).out.status, "200");
  t.is((await edge("/unsafe/700x700/filters:format(gif)/odd/animated.gif", tight)).out.status, "200");
});

test("SVG originals are refused with 415 by default", async (t) => {
  await refused(t, "/unsafe/100x100/odd/logo.svg", "415", /^415 SVG originals are not enabled/);
  await refused(t, "/odd/logo.svg?d=100x100", "415", /SVG/);
});

test("with allowSvg on, an SVG's external references are never fetched (a local server counts zero hits)", async (t) => {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { "content-type": "image/png" });
    res.end(fixture("paletted-transparent.png"));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as AddressInfo).port;
  try {
    const svg = Buffer.from(
      `<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY ext SYSTEM "http://127.0.0.1:${port}/entity.xml">]>` +
        `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="40">` +
        `<style>@import url("http://127.0.0.1:${port}/style.css"); rect { fill: url(http://127.0.0.1:${port}/paint.svg#p) }</style>` +
        `<image href="http://127.0.0.1:${port}/x.png" width="40" height="40"/>` +
        `<image xlink:href="http://127.0.0.1:${port}/y.png" width="40" height="40"/>` +
        `<use href="http://127.0.0.1:${port}/sprite.svg#icon"/>` +
        `<text>&ext;</text>` +
        `<script>fetch("http://127.0.0.1:${port}/script")</script>` +
        `<circle cx="5" cy="5" r="4" fill="#00f"/></svg>`,
    );
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "odd/external.svg", Body: svg, ContentType: "image/svg+xml" }));
    const withSvg = validateSettings({ allowSvg: true });
    const { out } = await edge("/unsafe/40x40/filters:format(png)/odd/external.svg", withSvg);
    // librsvg may refuse the document (entity) or draw what is local; it must never reach out.
    t.true(out.status === "200" || out.status === "400", `${out.status} ${out.body}`);
    const logo = await edge("/unsafe/100x0/odd/logo.svg", withSvg, "*/*");
    t.is(logo.out.status, "200");
    t.like(await sharp(bodyOf(logo.out)).metadata(), { format: "png", width: 100 });
    await new Promise((r) => setTimeout(r, 200));
    t.is(hits, 0, "the local server saw no request");
  } finally {
    server.close();
  }
});

// ---- awkward originals that must work ----

test("CMYK, 16-bit PNG and TIFF, grayscale and palette-with-transparency originals render through the handlers", async (t) => {
  const cmyk = await edge("/unsafe/60x60/ok/cmyk.jpg", DEFAULT_SETTINGS, "*/*");
  t.is(cmyk.out.status, "200");
  t.like(await sharp(bodyOf(cmyk.out)).metadata(), { format: "jpeg", space: "srgb", channels: 3, width: 60, height: 60 });
  for (const name of ["ok/16bit.png", "ok/16bit.tif"]) {
    const { out } = await edge(`/unsafe/40x40/${name}`, DEFAULT_SETTINGS, "*/*");
    t.is(out.status, "200", name);
    t.like(await sharp(bodyOf(out)).metadata(), { format: "png", depth: "uchar", width: 40, height: 40 });
  }
  const grey = await edge("/unsafe/30x30/ok/grayscale.jpg", DEFAULT_SETTINGS);
  t.is(grey.out.status, "200");
  t.like(await sharp(bodyOf(grey.out)).metadata(), { format: "webp", width: 30, height: 30 });
  const palette = await edge("/unsafe/150x0/ok/palette.png", DEFAULT_SETTINGS, "*/*");
  t.is(palette.out.status, "200");
  const meta = await sharp(bodyOf(palette.out)).metadata();
  t.like(meta, { format: "png", width: 150, hasAlpha: true });
  const [, , , alpha] = await pixelAt(bodyOf(palette.out), 0, 0);
  t.is(alpha, 0, "the transparent corner stays transparent");
});

for (let o = 1; o <= 8; o++) {
  test(`EXIF orientation ${o} comes out upright through the handlers`, async (t) => {
    const { out } = await edge(`/unsafe/filters:format(png)/ok/orientation-${o}.jpg`);
    t.is(out.status, "200");
    const body = bodyOf(out);
    t.like(await sharp(body).metadata(), { width: 40, height: 20 });
    const corners = [await pixelAt(body, 3, 3), await pixelAt(body, 36, 3), await pixelAt(body, 3, 16), await pixelAt(body, 36, 16)];
    assertPixel(t, corners[0]!, RED, PIXEL_TOLERANCE, JSON.stringify(corners));
    assertPixel(t, corners[1]!, GREEN, PIXEL_TOLERANCE, JSON.stringify(corners));
    assertPixel(t, corners[2]!, BLUE, PIXEL_TOLERANCE, JSON.stringify(corners));
    assertPixel(t, corners[3]!, WHITE, PIXEL_TOLERANCE, JSON.stringify(corners));
  });
}

for (const format of ["gif", "webp"] as const) {
  test(`an animated GIF stays animated as ${format} through the handlers`, async (t) => {
    const { out, key } = await edge(`/unsafe/60x60/filters:format(${format})/odd/animated.gif`);
    t.is(out.status, "200");
    const meta = await sharp(bodyOf(out), { animated: true }).metadata();
    t.like(meta, { format, pages: 2, width: 60, pageHeight: 60 });
    t.true(await stored(key!));
  });
}

test.after("no original was written, and nothing was stored outside the variant prefix", async (t) => {
  const all = (await client.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? [];
  for (const [key, etag] of originalEtags) t.is(all.find((o) => o.Key === key)?.ETag, etag, key);
  const created = all.filter((o) => !originalEtags.has(o.Key!) && o.Key !== "odd/external.svg");
  t.true(created.length > 0);
  for (const o of created) t.true(o.Key!.startsWith("variants/"), o.Key);
});
