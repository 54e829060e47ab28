/**
 * EXIF orientation 1-8: for each, the stored pixels are the upright quadrant image transformed by
 * the inverse of what the tag says (computed here pixel by pixel, independently of sharp), and
 * tagged with that orientation. The rendered variant must look like the upright image.
 */
import test from "ava";
import sharp from "sharp";
import { renderVariant } from "../../handlers/render/pipeline.js";
import type { TransformPlan } from "../../handlers/core/plan.js";
import { assertPixel, PIXEL_TOLERANCE } from "../helpers/assert-pixel.js";
import { BLUE, GREEN, RED, WHITE, fixture, pixelAt, plan, quadrantPixels, settings } from "../helpers/images.js";

const W = 40;
const H = 20;

/**
 * Stored pixels S such that displaying S with EXIF orientation `o` gives the upright image U
 * (W×H). Display rules (EXIF): 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90° CW,
 * 7 transverse, 8 rotate 270° CW. Returns S and its stored size.
 */
function storedFor(o: number): { data: Buffer; width: number; height: number } {
  const upright = quadrantPixels(W, H);
  const swap = o >= 5;
  const sw = swap ? H : W;
  const sh = swap ? W : H;
  const data = Buffer.alloc(sw * sh * 3);
  for (let b = 0; b < sh; b++) {
    for (let a = 0; a < sw; a++) {
      // (a, b) is a stored pixel; (x, y) the upright pixel it must show.
      let x: number;
      let y: number;
      switch (o) {
        case 1:
          [x, y] = [a, b];
          break;
        case 2:
          [x, y] = [W - 1 - a, b];
          break;
        case 3:
          [x, y] = [W - 1 - a, H - 1 - b];
          break;
        case 4:
          [x, y] = [a, H - 1 - b];
          break;
        case 5:
          [x, y] = [b, a];
          break; // D(x,y) = S(y,x)
        case 6:
          [x, y] = [sh - 1 - b, a];
          break; // D(x,y) = S(y, sh-1-x)
        case 7:
          [x, y] = [sh - 1 - b, sw - 1 - a];
          break; // D(x,y) = S(sw-1-y, sh-1-x)
        case 8:
          [x, y] = [b, sw - 1 - a];
          break; // D(x,y) = S(sw-1-y, x)
        default:
          throw new Error(`orientation ${o}`);
      }
      upright.copy(data, (b * sw + a) * 3, (y * W + x) * 3, (y * W + x) * 3 + 3);
    }
  }
  return { data, width: sw, height: sh };
}

async function taggedJpeg(o: number): Promise<Buffer> {
  const s = storedFor(o);
  return sharp(s.data, { raw: { width: s.width, height: s.height, channels: 3 } })
    .withMetadata({ orientation: o })
    .jpeg({ quality: 95 })
    .toBuffer();
}

async function corners(body: Buffer, w: number, h: number) {
  return [await pixelAt(body, 2, 2), await pixelAt(body, w - 3, 2), await pixelAt(body, 2, h - 3), await pixelAt(body, w - 3, h - 3)];
}

for (let o = 1; o <= 8; o++) {
  test(`EXIF orientation ${o} renders upright`, async (t) => {
    const original = await taggedJpeg(o);
    t.is((await sharp(original).metadata()).orientation, o, "the fixture carries the tag");
    const cases: [Partial<TransformPlan>, number, number][] = [
      [{}, W, H],
      [{ width: 20, height: 0 }, 20, 10],
      [{ fit: "fit-in", width: 30, height: 30 }, 30, 15],
    ];
    for (const [over, w, h] of cases) {
      const out = await renderVariant({ plan: plan({ format: "png", ...over }), original, settings });
      t.deepEqual([out.width, out.height], [w, h], JSON.stringify(over));
      const [tl, tr, bl, br] = await corners(out.body, w, h);
      assertPixel(t, tl!, [...RED, 255], PIXEL_TOLERANCE, `top-left ${JSON.stringify(over)}: ${tl}`);
      assertPixel(t, tr!, [...GREEN, 255], PIXEL_TOLERANCE, `top-right ${JSON.stringify(over)}: ${tr}`);
      assertPixel(t, bl!, [...BLUE, 255], PIXEL_TOLERANCE, `bottom-left ${JSON.stringify(over)}: ${bl}`);
      assertPixel(t, br!, [...WHITE, 255], PIXEL_TOLERANCE, `bottom-right ${JSON.stringify(over)}: ${br}`);
    }
  });

  test(`EXIF orientation ${o}: a requested flip applies to the upright image`, async (t) => {
    const out = await renderVariant({ plan: plan({ format: "png", flipHorizontal: true }), original: await taggedJpeg(o), settings });
    const [tl, , , br] = await corners(out.body, out.width, out.height);
    assertPixel(t, tl!, [...GREEN, 255]);
    assertPixel(t, br!, [...BLUE, 255]);
  });
}

test("CMYK JPEG with orientation 6 (Giunchedi) comes out upright, 533x800, sRGB", async (t) => {
  const out = await renderVariant({ plan: plan({ format: "jpeg" }), original: fixture("giunchedi-cmyk-orientation-exif.jpg"), settings });
  t.deepEqual([out.width, out.height], [533, 800]);
  const meta = await sharp(out.body).metadata();
  t.is(meta.space, "srgb");
  t.is(meta.channels, 3);
  t.is(meta.orientation, undefined, "the tag is gone once applied");
});

test("broken EXIF orientation 0 is ignored, not fatal", async (t) => {
  const out = await renderVariant({ plan: plan({ format: "jpeg" }), original: fixture("broken-exif-tag.jpg"), settings });
  t.deepEqual([out.width, out.height], [1, 1]);
});

for (const o of [3, 6, 8]) {
  test(`EXIF orientation ${o}: manual crop coordinates are in upright pixels`, async (t) => {
    // the right half of the upright image: green on top, white below
    const out = await renderVariant({
      plan: plan({ format: "png", crop: { left: 20, top: 0, right: 40, bottom: 20 } }),
      original: await taggedJpeg(o),
      settings,
    });
    t.deepEqual([out.width, out.height], [20, 20]);
    assertPixel(t, await pixelAt(out.body, 2, 2), [...GREEN, 255]);
    assertPixel(t, await pixelAt(out.body, 17, 17), [...WHITE, 255]);
  });
}

for (let o = 1; o <= 8; o++) {
  test(`EXIF orientation ${o}: a right-aligned downscaling crop with a vertical flip`, async (t) => {
    const out = await renderVariant({
      plan: plan({ format: "png", width: 10, height: 10, halign: "right", flipVertical: true }),
      original: await taggedJpeg(o),
      settings,
    });
    t.deepEqual([out.width, out.height], [10, 10]);
    // the right half (green over white), upside down
    assertPixel(t, await pixelAt(out.body, 5, 1), [...WHITE, 255]);
    assertPixel(t, await pixelAt(out.body, 5, 8), [...GREEN, 255]);
  });
}
