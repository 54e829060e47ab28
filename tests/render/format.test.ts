/**
 * renderVariant encoding: output formats, the source's own format when the plan names none,
 * quality, alpha, colour spaces, bit depth, palettes, metadata and the encoder-level filters.
 */
import test from "ava";
import sharp from "sharp";
import { outputFormatFor, renderVariant } from "../../handlers/render/pipeline.js";
import type { OutputFormat, TransformPlan } from "../../handlers/core/plan.js";
import { assertPixel } from "../helpers/assert-pixel.js";
import { fixture, pixelAt, plan, settings } from "../helpers/images.js";

async function render(name: string | Buffer, over: Partial<TransformPlan> = {}) {
  const out = await renderVariant({ plan: plan(over), original: typeof name === "string" ? fixture(name) : name, settings });
  return { out, meta: await sharp(out.body).metadata() };
}

const FORMATS: [OutputFormat, string, string][] = [
  ["jpeg", "jpeg", "image/jpeg"],
  ["png", "png", "image/png"],
  ["webp", "webp", "image/webp"],
  ["avif", "heif", "image/avif"],
  ["gif", "gif", "image/gif"],
];
for (const [format, decoder, type] of FORMATS) {
  test(`format ${format}: encoded as ${type} at the requested size`, async (t) => {
    const { out, meta } = await render("raindrops-480.jpg", { format, width: 100, height: 80 });
    t.is(out.contentType, type);
    t.is(out.format, format);
    t.is(meta.format as string, decoder);
    if (format === "avif") t.is(meta.compression, "av1");
    t.deepEqual([meta.width, meta.height], [100, 80]);
  });
}

const SOURCE_FORMATS: [string, OutputFormat][] = [
  ["image.jpg", "jpeg"],
  ["paletted-transparent.png", "png"],
  ["image.webp", "webp"],
  ["image.avif", "avif"],
  ["animated-one-frame.gif", "gif"],
  ["gradient_lsb_16bperchannel.tif", "png"], // thumbor serves TIFF as PNG
];
for (const [name, expected] of SOURCE_FORMATS) {
  test(`format null keeps the source's format: ${name} → ${expected}`, async (t) => {
    const { out } = await render(name, { format: null, width: 50, height: 0 });
    t.is(out.format, expected);
    t.is(out.width, 50);
  });
}

test("outputFormatFor: HEIC → JPEG, SVG and TIFF → PNG, AVIF → AVIF, autojpg turns an opaque PNG into JPEG only", (t) => {
  t.is(outputFormatFor({ plan: plan({ format: null }), header: { format: "heif", hasAlpha: false, compression: "hevc" } }), "jpeg");
  t.is(outputFormatFor({ plan: plan({ format: null }), header: { format: "svg", hasAlpha: true } }), "png");
  t.is(outputFormatFor({ plan: plan({ format: null }), header: { format: "heif", hasAlpha: false, compression: "av1" } }), "avif");
  t.is(outputFormatFor({ plan: plan({ format: null }), header: { format: "tiff", hasAlpha: false } }), "png");
  t.is(outputFormatFor({ plan: plan({ format: null }), header: { format: "gif", hasAlpha: true } }), "gif");
  const autojpg = plan({ format: null, filters: [{ name: "autojpg", args: [] }] });
  t.is(outputFormatFor({ plan: autojpg, header: { format: "png", hasAlpha: false } }), "jpeg");
  t.is(outputFormatFor({ plan: autojpg, header: { format: "png", hasAlpha: true } }), "png", "a PNG with alpha stays PNG");
  t.is(
    outputFormatFor({
      plan: plan({ format: null, filters: [{ name: "autojpg", args: [false] }] }),
      header: { format: "png", hasAlpha: false },
    }),
    "png",
  );
  t.is(
    outputFormatFor({
      plan: plan({ format: "webp", filters: [{ name: "autojpg", args: [] }] }),
      header: { format: "png", hasAlpha: false },
    }),
    "webp",
    "an explicit format wins",
  );
});

for (const format of ["jpeg", "webp", "avif"] as const) {
  test(`quality changes the ${format} size`, async (t) => {
    const low = await render("raindrops-480.jpg", { format, quality: 20 });
    const high = await render("raindrops-480.jpg", { format, quality: 95 });
    t.true(low.out.body.length < high.out.body.length, `${low.out.body.length} < ${high.out.body.length}`);
  });
}

test("max_bytes lowers the JPEG quality until the answer fits", async (t) => {
  const full = await render("raindrops-480.jpg", { format: "jpeg", quality: 95 });
  const limit = Math.floor(full.out.body.length / 3);
  const capped = await render("raindrops-480.jpg", { format: "jpeg", quality: 95, filters: [{ name: "max_bytes", args: [limit] }] });
  t.true(capped.out.body.length <= limit, `${capped.out.body.length} <= ${limit}`);
  t.true(capped.out.body.length > limit / 4, "it climbs back instead of stopping at the worst quality");
});

test("alpha is kept for PNG and WebP and flattened onto white for JPEG", async (t) => {
  for (const format of ["png", "webp"] as const) {
    const { meta, out } = await render("paletted-transparent.png", { format });
    t.true(meta.hasAlpha, format);
    t.true((await transparentPixels(out.body)) > 0, `${format} keeps transparent pixels`);
  }
  const jpeg = await render("paletted-transparent.png", { format: "jpeg" });
  t.false(jpeg.meta.hasAlpha);
  const src = await sharp(fixture("paletted-transparent.png")).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = firstTransparent(src.data, src.info.width);
  t.truthy(at, "the fixture has a fully transparent pixel");
  assertPixel(t, await pixelAt(jpeg.out.body, at!.x, at!.y), [255, 255, 255, 255], 12, "transparent pixels become white in JPEG");
});

test("background_color(000000) composites alpha onto that colour", async (t) => {
  const src = await sharp(fixture("paletted-transparent.png")).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = firstTransparent(src.data, src.info.width)!;
  const { out } = await render("paletted-transparent.png", { format: "png", filters: [{ name: "background_color", args: ["000000"] }] });
  const px = await pixelAt(out.body, at.x, at.y);
  t.deepEqual(px, [0, 0, 0, 255]);
});

function firstTransparent(rgba: Buffer, width: number): { x: number; y: number } | null {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] === 0) return { x: ((i - 3) / 4) % width, y: Math.floor((i - 3) / 4 / width) };
  return null;
}

async function transparentPixels(encoded: Buffer): Promise<number> {
  const { data } = await sharp(encoded).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i]! < 255) n++;
  return n;
}

test("palette PNG with tRNS stays a palette PNG with transparency", async (t) => {
  const { meta } = await render("paletted-transparent.png", { format: null, width: 200, height: 150 });
  t.true(meta.isPalette);
  t.true(meta.hasAlpha);
  t.deepEqual([meta.width, meta.height], [200, 150]);
});

test("CMYK JPEG becomes 3-channel sRGB (JPEG and PNG)", async (t) => {
  for (const format of ["jpeg", "png"] as const) {
    const { meta } = await render("cmyk.jpg", { format });
    t.is(meta.space, "srgb", format);
    t.is(meta.channels, 3, format);
  }
});

test("16-bit PNG and 16-bit TIFF come out as 8-bit", async (t) => {
  for (const name of ["16bit.png", "gradient_lsb_16bperchannel.tif"]) {
    const { meta } = await render(name, { format: "png" });
    t.is(meta.depth, "uchar", name);
    t.is(meta.bitsPerSample, 8, name);
  }
});

test("grayscale() removes colour", async (t) => {
  const { out } = await render("raindrops-480.jpg", { format: "png", filters: [{ name: "grayscale", args: [] }] });
  const { data, info } = await sharp(out.body).raw().toBuffer({ resolveWithObject: true });
  let coloured = 0;
  for (let i = 0; i < data.length; i += info.channels)
    if (info.channels >= 3 && (data[i] !== data[i + 1] || data[i] !== data[i + 2])) coloured++;
  t.is(coloured, 0);
  const colour = await render("raindrops-480.jpg", { format: "png" });
  const raw = await sharp(colour.out.body).raw().toBuffer();
  t.true(
    raw.some((v, i) => i % 3 === 0 && (v !== raw[i + 1] || v !== raw[i + 2])),
    "the source does have colour",
  );
});

test("grayscale() is Pillow's ITU-R 601-2 luma, as thumbor's: pure red 76, green 150, blue 29; alpha kept", async (t) => {
  const bars = await sharp(Buffer.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 128]), { raw: { width: 3, height: 1, channels: 4 } })
    .png()
    .toBuffer();
  const { out } = await render(bars, { format: "png", filters: [{ name: "grayscale", args: [] }] });
  const { data, info } = await sharp(out.body).raw().toBuffer({ resolveWithObject: true });
  const luma = [0, 1, 2].map((x) => data[x * info.channels]);
  t.deepEqual(luma, [76, 150, 29]);
  t.true(info.channels === 2 || info.channels === 4, "alpha channel kept");
  t.is(data[2 * info.channels + info.channels - 1], 128, "alpha value kept");
});

test("metadata is stripped; an ICC source keeps an sRGB profile unless strip_icc()", async (t) => {
  const tagged = await sharp(fixture("raindrops-480.jpg"))
    .withExif({ IFD0: { Copyright: "someone" } })
    .withIccProfile("p3")
    .jpeg()
    .toBuffer();
  const kept = await render(tagged, { format: "jpeg" });
  t.is(kept.meta.exif, undefined, "EXIF stripped");
  t.true(kept.meta.hasProfile, "sRGB ICC profile present");
  const stripped = await render(tagged, {
    format: "jpeg",
    filters: [
      { name: "strip_icc", args: [] },
      { name: "strip_exif", args: [] },
    ],
  });
  t.false(stripped.meta.hasProfile);
  t.is(stripped.meta.exif, undefined);
});

test("max_age(n) is exposed for Cache-Control and changes no pixel", async (t) => {
  const a = await render("image.jpg", { format: "png", filters: [{ name: "max_age", args: [3600] }] });
  const b = await render("image.jpg", { format: "png" });
  t.is(a.out.maxAge, 3600);
  t.is(b.out.maxAge, undefined);
  t.true(a.out.body.equals(b.out.body));
});

test("JPEG variants are progressive as thumbor's PROGRESSIVE_JPEG, baseline with thumbor.progressiveJpeg false, the same picture", async (t) => {
  const original = fixture("raindrops-480.jpg");
  const jpeg = plan({ width: 240, height: 150, format: "jpeg" });
  const progressive = await renderVariant({ plan: jpeg, original, settings });
  const baseline = await renderVariant({
    plan: jpeg,
    original,
    settings: { ...settings, thumbor: { ...settings.thumbor, progressiveJpeg: false } },
  });
  t.true((await sharp(progressive.body).metadata()).isProgressive);
  t.false((await sharp(baseline.body).metadata()).isProgressive);
  const pixels = async (body: Buffer) => (await sharp(body).raw().toBuffer()).toString("base64");
  t.is(await pixels(baseline.body), await pixels(progressive.body), "only the file's layout differs");
});
