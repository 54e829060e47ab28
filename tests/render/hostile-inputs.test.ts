/**
 * Untrusted originals: pixel bombs refused from the header, broken files rendered or refused
 * with a 4xx (never anything else), animated limits, and SVG gating without network access.
 */
import test from "ava";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import sharp, { type Metadata } from "sharp";
import { RequestError } from "../../handlers/core/errors.js";
import { checkedHeader } from "../../handlers/render/load.js";
import { renderVariant } from "../../handlers/render/pipeline.js";
import type { TransformPlan } from "../../handlers/core/plan.js";
import type { Settings } from "../../handlers/core/settings.js";
import { fixture, plan, settings } from "../helpers/images.js";

async function refusal(original: Buffer, over: Partial<TransformPlan> = {}, s: Settings = settings): Promise<RequestError> {
  try {
    await renderVariant({ plan: plan({ format: "jpeg", ...over }), original, settings: s });
  } catch (err) {
    if (err instanceof RequestError) return err;
    throw new Error(`expected a RequestError, got ${String(err)}`);
  }
  throw new Error("expected a refusal, got an image");
}

for (const [name, w, h] of [
  ["16384x16384.png", 16384, 16384],
  ["9643x10328.jpg", 9643, 10328],
] as const) {
  test(`pixel bomb ${name} is refused from its header with 400`, async (t) => {
    const err = await refusal(fixture(name), { width: 100, height: 100 });
    t.is(err.status, 400);
    // This message comes from our header check; sharp's own limit says "Input image exceeds pixel limit".
    t.is(err.reason, `image too large: ${w}x${h} px exceeds maxInputPixels ${settings.maxInputPixels}`);
  });
}

test("maxInputPixels applies to small images too (thumbor MAX_PIXELS=1000 → 400)", async (t) => {
  const err = await refusal(fixture("grayscale.jpg"), { width: 200, height: 200 }, { ...settings, maxInputPixels: 1000 });
  t.is(err.status, 400);
  t.regex(err.reason, /^image too large: 100x100 px exceeds maxInputPixels 1000$/);
});

test("a truncated JPEG still renders (thumbor's LOAD_TRUNCATED_IMAGES)", async (t) => {
  const out = await renderVariant({
    plan: plan({ format: "jpeg", width: 10, height: 10 }),
    original: fixture("BlueSquare_truncated.jpg"),
    settings,
  });
  t.deepEqual([out.width, out.height], [10, 10]);
  t.is((await sharp(out.body).metadata()).format, "jpeg");
});

test("a JPEG with an invalid quantization table renders", async (t) => {
  const out = await renderVariant({ plan: plan({ format: "png" }), original: fixture("invalid_quantization.jpg"), settings });
  t.deepEqual([out.width, out.height], [300, 400]);
});

const garbage: [string, Buffer][] = [
  ["image_invalid.jpg (one newline)", fixture("image_invalid.jpg")],
  ["an empty file", Buffer.alloc(0)],
  ["an HTML error page", Buffer.from("<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>")],
  ["a PPM (readable by libvips, not an accepted format)", Buffer.from("P6\n1 1\n255\n\xff\x00\x00", "latin1")],
  ["random bytes", Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))],
];
for (const [name, bytes] of garbage) {
  test(`${name} answers 400 "not a supported image"`, async (t) => {
    const err = await refusal(bytes);
    t.is(err.status, 400);
    t.regex(err.reason, /^not a supported image: /);
  });
}

test("HEIC (no HEVC decoder in sharp's build) answers a 4xx, not a 500", async (t) => {
  const err = await refusal(fixture("image.heic"));
  t.is(err.status, 400);
  t.regex(err.reason, /^not a supported image: /);
});

test("the format table decides which headers are read: one it lacks is a 400 naming it, HEVC gets HEIC's reason, SVG its setting", (t) => {
  const refused = (format: string, compression?: string): RequestError => {
    const m = { format, compression, width: 10, height: 10, hasAlpha: false, isPalette: false, hasProfile: false } as Metadata;
    return t.throws(() => checkedHeader(m, settings), { instanceOf: RequestError })!;
  };
  t.like(refused("jp2k"), { status: 400, reason: "not a supported image: jp2k input is not accepted" });
  t.like(refused("heif", "hevc"), { status: 400, reason: "not a supported image: HEIC (HEVC) originals cannot be decoded here" });
  t.like(refused("svg"), { status: 415, reason: "SVG originals are not enabled (allowSvg)" });
  const avif = {
    format: "heif",
    compression: "av1",
    width: 10,
    height: 10,
    hasAlpha: false,
    isPalette: false,
    hasProfile: false,
  } as Metadata;
  t.is(checkedHeader(avif, settings).format, "heif", "AVIF (AV1 in HEIF) is read");
});

test("a PNG cut in half answers an image or a 400, never a crash", async (t) => {
  const png = fixture("paletted-transparent.png");
  try {
    const out = await renderVariant({ plan: plan({ format: "png" }), original: png.subarray(0, png.length / 2), settings });
    t.deepEqual([out.width, out.height], [300, 225]);
  } catch (err) {
    t.true(err instanceof RequestError && err.status === 400, String(err));
  }
});

for (const format of ["gif", "webp"] as const) {
  test(`animated.gif stays animated as ${format}`, async (t) => {
    const out = await renderVariant({ plan: plan({ format, width: 50, height: 50 }), original: fixture("animated.gif"), settings });
    const meta = await sharp(out.body, { animated: true }).metadata();
    t.is(meta.format, format);
    t.is(meta.pages, 2);
    t.is(meta.pageHeight ?? meta.height / 2, 50);
    t.deepEqual([out.width, out.height], [50, 50]);
  });
}

test("animated.gif with a crop, flip and fill keeps both frames", async (t) => {
  const out = await renderVariant({
    plan: plan({
      format: "gif",
      fit: "fit-in",
      width: 80,
      height: 40,
      flipHorizontal: true,
      filters: [{ name: "fill", args: ["ff0000"] }],
    }),
    original: fixture("animated.gif"),
    settings,
  });
  const meta = await sharp(out.body, { animated: true }).metadata();
  t.is(meta.pages, 2);
  t.deepEqual([meta.width, meta.pageHeight], [80, 40]);
});

test("animated.gif as JPEG, or with cover(), is its first frame", async (t) => {
  const jpeg = await renderVariant({ plan: plan({ format: "jpeg" }), original: fixture("animated.gif"), settings });
  t.deepEqual([jpeg.width, jpeg.height], [100, 100]);
  const cover = await renderVariant({
    plan: plan({ format: "gif", filters: [{ name: "cover", args: [] }] }),
    original: fixture("animated.gif"),
    settings,
  });
  t.is((await sharp(cover.body).metadata()).pages ?? 1, 1);
});

test("more frames than maxFrames answers 400 with both numbers", async (t) => {
  const err = await refusal(fixture("animated.gif"), { format: "gif" }, { ...settings, maxFrames: 1 });
  t.is(err.status, 400);
  t.is(err.reason, "animated image has 2 frames, limit is 1");
});

test("SVG is refused with 415 unless allowSvg", async (t) => {
  const err = await refusal(fixture("Commons-logo.svg"), { format: "png" });
  t.is(err.status, 415);
  const out = await renderVariant({
    plan: plan({ format: null }),
    original: fixture("Commons-logo.svg"),
    settings: { ...settings, allowSvg: true },
  });
  t.is(out.format, "png");
  t.deepEqual([out.width, out.height], [1024, 1376]);
  const fit = await renderVariant({
    plan: plan({ format: "png", fit: "fit-in", width: 300, height: 0 }),
    original: fixture("Commons-logo.svg"),
    settings: { ...settings, allowSvg: true },
  });
  t.deepEqual([fit.width, fit.height], [300, 403], "thumbor: /fit-in/300x/Commons-logo.svg → 300x403");
});

test("an allowed SVG never fetches external references (http or file)", async (t) => {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { "content-type": "image/png" });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const svg = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="20" height="20">` +
        `<image href="http://127.0.0.1:${port}/a.png" width="20" height="20"/>` +
        `<image xlink:href="http://127.0.0.1:${port}/b.png" width="20" height="20"/>` +
        `<image href="file://${__dirname}/../fixtures/images/image.jpg" width="20" height="20"/>` +
        `<rect x="0" y="0" width="4" height="4" fill="#ff0000"/></svg>`,
    );
    const out = await renderVariant({ plan: plan({ format: "png" }), original: svg, settings: { ...settings, allowSvg: true } });
    t.deepEqual([out.width, out.height], [20, 20]);
    const { data } = await sharp(out.body).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    // Only the red square is drawn: a loaded image.jpg would have painted the transparent area.
    const far = (10 * 20 + 10) * 4;
    t.is(data[far + 3], 0, "no external image was drawn");
    await new Promise((r) => setTimeout(r, 100));
    t.is(hits, 0, "the local server saw no request");
  } finally {
    server.close();
  }
});

test("an animation is budgeted on all its frames: 2 frames of 100x100 exceed maxInputPixels 15000", async (t) => {
  const err = await refusal(fixture("animated.gif"), { format: "gif" }, { ...settings, maxInputPixels: 15_000 });
  t.is(err.status, 400);
  t.is(err.reason, "animated image too large: 2 frames of 100x100 px exceed maxInputPixels 15000");
  // the same original as a still (first frame) is within budget
  const still = await renderVariant({
    plan: plan({ format: "png" }),
    original: fixture("animated.gif"),
    settings: { ...settings, maxInputPixels: 15_000 },
  });
  t.deepEqual([still.width, still.height], [100, 100]);
});

test("animation timing survives post-transform filters", async (t) => {
  const source = await sharp(fixture("animated.gif"), { animated: true }).metadata();
  const out = await renderVariant({
    plan: plan({ format: "gif", filters: [{ name: "grayscale", args: [] }] }),
    original: fixture("animated.gif"),
    settings,
  });
  const meta = await sharp(out.body, { animated: true }).metadata();
  t.deepEqual(meta.delay, source.delay);
  t.is(meta.loop, source.loop);
});
