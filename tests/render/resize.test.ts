/**
 * renderVariant geometry on real pixels: output sizes for every resize mode, crops that keep the
 * right part of the picture, and flips checked by corner colours.
 */
import test from "ava";
import sharp from "sharp";
import { renderVariant } from "../../handlers/render/pipeline.js";
import type { TransformPlan } from "../../handlers/core/plan.js";
import { assertPixel, PIXEL_TOLERANCE } from "../helpers/assert-pixel.js";
import { BLUE, GREEN, RED, WHITE, fixture, pixelAt, plan, quadrantImage, settings } from "../helpers/images.js";

async function render(over: Partial<TransformPlan>, original?: Buffer) {
  const out = await renderVariant({
    plan: plan({ format: "png", ...over }),
    original: original ?? (await quadrantImage(400, 200)),
    settings,
  });
  const meta = await sharp(out.body).metadata();
  return { out, meta };
}

const sizes: [string, Partial<TransformPlan>, number, number][] = [
  ["crop 100x100", { width: 100, height: 100 }, 100, 100],
  ["crop upscales freely", { width: 800, height: 800 }, 800, 800],
  ["proportional height", { width: 100, height: 0 }, 100, 50],
  ["proportional width", { width: 0, height: 50 }, 100, 50],
  ["orig width", { width: "orig", height: 100 }, 400, 100],
  ["0x0 keeps the size", {}, 400, 200],
  ["fit-in 100x100", { fit: "fit-in", width: 100, height: 100 }, 100, 50],
  ["fit-in never upscales", { fit: "fit-in", width: 1000, height: 1000 }, 400, 200],
  ["fit-in + upscale()", { fit: "fit-in", width: 1000, height: 1000, filters: [{ name: "upscale", args: [] }] }, 1000, 500],
  ["full-fit-in 100x100 covers the box", { fit: "full-fit-in", width: 100, height: 100 }, 200, 100],
  ["adaptive-fit-in swaps a portrait box", { fit: "adaptive-fit-in", width: 50, height: 100 }, 100, 50],
  ["adaptive-full-fit-in", { fit: "adaptive-full-fit-in", width: 25, height: 100 }, 100, 50],
  ["stretch", { width: 100, height: 100, filters: [{ name: "stretch", args: [] }] }, 100, 100],
  ["no_upscale", { width: 800, height: 600, filters: [{ name: "no_upscale", args: [] }] }, 400, 200],
  ["manual crop then size", { crop: { left: 0, top: 0, right: 200, bottom: 100 }, width: 50, height: 0 }, 50, 25],
  ["proportion(0.5)", { width: 200, height: 100, filters: [{ name: "proportion", args: [0.5] }] }, 100, 50],
];
for (const [name, over, w, h] of sizes) {
  test(`size: ${name} → ${w}x${h}`, async (t) => {
    const { out, meta } = await render(over);
    t.is(meta.width, w);
    t.is(meta.height, h);
    t.deepEqual([out.width, out.height], [w, h]);
  });
}

test("crop 200x200 of a 400x200 image keeps the centre, left-aligned keeps the left half", async (t) => {
  const centre = (await render({ width: 200, height: 200 })).out.body;
  // centre crop spans the middle: left edge red (top) / blue (bottom), right edge green / white
  assertPixel(t, await pixelAt(centre, 5, 5), [...RED, 255]);
  assertPixel(t, await pixelAt(centre, 194, 5), [...GREEN, 255]);
  const left = (await render({ width: 200, height: 200, halign: "left" })).out.body;
  assertPixel(t, await pixelAt(left, 194, 5), [...RED, 255], PIXEL_TOLERANCE, "the whole crop is the red quadrant");
  assertPixel(t, await pixelAt(left, 194, 194), [...BLUE, 255]);
  const right = (await render({ width: 200, height: 200, halign: "right" })).out.body;
  assertPixel(t, await pixelAt(right, 5, 5), [...GREEN, 255]);
});

test("focal() moves the crop to the focal point", async (t) => {
  const out = (await render({ width: 100, height: 200, filters: [{ name: "focal", args: ["340x20:360x40"] }] })).out.body;
  assertPixel(t, await pixelAt(out, 5, 5), [...GREEN, 255]);
  assertPixel(t, await pixelAt(out, 95, 195), [...WHITE, 255]);
});

test("manual crop extracts the requested region", async (t) => {
  const out = (await render({ crop: { left: 200, top: 100, right: 400, bottom: 200 } })).out;
  t.deepEqual([out.width, out.height], [200, 100]);
  assertPixel(t, await pixelAt(out.body, 100, 50), [...WHITE, 255]);
});

const flips: [string, Partial<TransformPlan>, [number, number, number][]][] = [
  ["horizontal", { flipHorizontal: true }, [GREEN, RED, WHITE, BLUE]],
  ["vertical", { flipVertical: true }, [BLUE, WHITE, RED, GREEN]],
  ["both", { flipHorizontal: true, flipVertical: true }, [WHITE, BLUE, GREEN, RED]],
];
for (const [name, over, [tl, tr, bl, br]] of flips) {
  test(`flip ${name}: corners swap (with and without resize)`, async (t) => {
    for (const size of [{}, { width: 100, height: 50 }, { width: 100, height: 100 }]) {
      const out = (await render({ ...over, ...size })).out;
      const w = out.width;
      const h = out.height;
      assertPixel(t, await pixelAt(out.body, 2, 2), [...tl!, 255], PIXEL_TOLERANCE, `top-left ${JSON.stringify(size)}`);
      assertPixel(t, await pixelAt(out.body, w - 3, 2), [...tr!, 255], PIXEL_TOLERANCE, `top-right ${JSON.stringify(size)}`);
      assertPixel(t, await pixelAt(out.body, 2, h - 3), [...bl!, 255], PIXEL_TOLERANCE, `bottom-left ${JSON.stringify(size)}`);
      assertPixel(t, await pixelAt(out.body, w - 3, h - 3), [...br!, 255], PIXEL_TOLERANCE, `bottom-right ${JSON.stringify(size)}`);
    }
  });
}

test("flip after a left-aligned crop mirrors the cropped part (thumbor flips after crop and resize)", async (t) => {
  const out = (await render({ width: 200, height: 200, halign: "left", flipHorizontal: true })).out.body;
  // the crop is the left (red/blue) half; mirrored it is still red/blue only
  assertPixel(t, await pixelAt(out, 2, 2), [...RED, 255]);
  assertPixel(t, await pixelAt(out, 197, 197), [...BLUE, 255]);
});

test("smart crop uses sharp's attention strategy and keeps the target size", async (t) => {
  const { out } = await render({ width: 100, height: 100, smart: true }, fixture("raindrops-480.jpg"));
  t.deepEqual([out.width, out.height], [100, 100]);
});

test("fill(ff0000) on fit-in letterboxes to the request size", async (t) => {
  const { out } = await render(
    { fit: "fit-in", width: 200, height: 200, filters: [{ name: "fill", args: ["ff0000"] }] },
    await quadrantImage(400, 200),
  );
  t.deepEqual([out.width, out.height], [200, 200]);
  assertPixel(t, await pixelAt(out.body, 100, 10), [255, 0, 0, 255], PIXEL_TOLERANCE, "band above the image is the fill colour");
  // the 200x100 image sits at top = 50: its quadrants show in the middle band
  assertPixel(t, await pixelAt(out.body, 10, 60), [...RED, 255], PIXEL_TOLERANCE, "image in the middle band");
  assertPixel(t, await pixelAt(out.body, 150, 60), [...GREEN, 255]);
  assertPixel(t, await pixelAt(out.body, 150, 140), [...WHITE, 255]);
  assertPixel(t, await pixelAt(out.body, 100, 190), [255, 0, 0, 255], PIXEL_TOLERANCE, "band below the image is the fill colour");
});

test("fill(transparent) keeps an alpha canvas; fill(auto) and fill(blur) give the request size", async (t) => {
  const transparent = (await render({ fit: "fit-in", width: 200, height: 200, filters: [{ name: "fill", args: ["transparent"] }] })).out
    .body;
  t.is((await pixelAt(transparent, 100, 5))[3], 0);
  for (const mode of ["auto", "blur"]) {
    const out = (
      await render({ fit: "fit-in", width: 300, height: 300, filters: [{ name: "fill", args: [mode] }] }, fixture("raindrops-480.jpg"))
    ).out;
    t.deepEqual([out.width, out.height], [300, 300], mode);
  }
});

test("zero-size fit-in (940x2 → fit-in 134x134) answers a 134x1 image", async (t) => {
  const { out } = await render({ fit: "fit-in", width: 134, height: 134 }, fixture("940x2.png"));
  t.deepEqual([out.width, out.height], [134, 1]);
});

test("an output above maxWidth x maxHeight is refused with 400", async (t) => {
  const err = await t.throwsAsync(
    renderVariant({ plan: plan({ fit: "full-fit-in", width: 4000, height: 1 }), original: await quadrantImage(10, 400), settings }),
  );
  t.is((err as any).status, 400);
  t.regex(err!.message, /exceeds the maximum/);
});

test("trim removes a uniform border before the resize", async (t) => {
  // 60x40 white with a 20x10 red block at (10,5)
  const raw = Buffer.alloc(60 * 40 * 3, 255);
  for (let y = 5; y < 15; y++) for (let x = 10; x < 30; x++) raw.set(RED, (y * 60 + x) * 3);
  const png = await sharp(raw, { raw: { width: 60, height: 40, channels: 3 } })
    .png()
    .toBuffer();
  const { out } = await render({ trim: { corner: "top-left", tolerance: 0 } }, png);
  t.deepEqual([out.width, out.height], [20, 10]);
  assertPixel(t, await pixelAt(out.body, 0, 0), [...RED, 255], 5);
});

test("a fill canvas above maxWidth x maxHeight is refused with 400", async (t) => {
  const err = await t.throwsAsync(
    renderVariant({
      plan: plan({ format: "png", fit: "fit-in", width: 300, height: 300, filters: [{ name: "fill", args: ["ffffff"] }] }),
      original: await quadrantImage(40, 20),
      settings: { ...settings, maxWidth: 200 },
    }),
  );
  t.is((err as any).status, 400);
  t.is((err as any).reason, "fill canvas 300x300 exceeds the maximum 200x4096");
});

test("JPEG downscaling crops (scaled first for shrink-on-load) keep position and flips", async (t) => {
  const jpeg = await quadrantImage(800, 400, "jpeg");
  // left-aligned 100x100 of 800x400: the 400x400 left half → red over blue
  const left = (await render({ format: "png", width: 100, height: 100, halign: "left" }, jpeg)).out;
  t.deepEqual([left.width, left.height], [100, 100]);
  assertPixel(t, await pixelAt(left.body, 95, 5), [...RED, 255]);
  assertPixel(t, await pixelAt(left.body, 95, 95), [...BLUE, 255]);
  const right = (await render({ format: "png", width: 100, height: 100, halign: "right", flipHorizontal: true, flipVertical: true }, jpeg))
    .out;
  assertPixel(t, await pixelAt(right.body, 5, 5), [...WHITE, 255], PIXEL_TOLERANCE, "right half (green over white), flipped both ways");
  assertPixel(t, await pixelAt(right.body, 95, 95), [...GREEN, 255]);
  // centre 200x100 of 800x400 with orientation 6 still upright
  const centre = (await render({ format: "png", width: 200, height: 50 }, jpeg)).out;
  assertPixel(t, await pixelAt(centre.body, 5, 2), [...RED, 255]);
  assertPixel(t, await pixelAt(centre.body, 195, 47), [...WHITE, 255]);
});

test("a JPEG downscaling crop matches thumbor's crop-then-resize to within resampling noise", async (t) => {
  const photo = fixture("raindrops-480.jpg"); // 480x300
  for (const [w, h, halign] of [
    [100, 100, "center"],
    [150, 40, "left"],
    [60, 90, "right"],
  ] as const) {
    const ours = await renderVariant({ plan: plan({ format: "png", width: w, height: h, halign }), original: photo, settings });
    const ops = (await import("../../handlers/render/geometry.js")).planOperations(plan({ width: w, height: h, halign }), 480, 300);
    const box = ops.autoCrop!;
    const exact = await sharp(photo).extract(box).resize(w, h, { fit: "fill" }).raw().toBuffer();
    const got = await sharp(ours.body).raw().toBuffer();
    t.is(got.length, exact.length);
    let diff = 0;
    for (let i = 0; i < got.length; i++) diff += Math.abs(got[i]! - exact[i]!);
    const mean = diff / got.length;
    t.true(mean < 6, `${w}x${h} ${halign}: mean absolute difference ${mean.toFixed(2)}`);
  }
});
