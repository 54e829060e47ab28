/**
 * Enlargements resampled like thumbor's Pillow LANCZOS (render/lanczos.ts), against references
 * Pillow 12.3 made (scripts/pillow-lanczos-references.py, PNGs in tests/fixtures/images/).
 */
import test from "ava";
import sharp from "sharp";
import { pillowLanczosResize } from "../../handlers/render/lanczos.js";
import { renderVariant } from "../../handlers/render/pipeline.js";
import type { RawImage } from "../../handlers/render/common/raw.js";
import { fixture, plan, settings } from "../helpers/images.js";
import { maxAbsDiff, psnr } from "../helpers/psnr.js";

async function rawOf(image: sharp.Sharp): Promise<RawImage> {
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as RawImage["channels"], frames: 1 };
}

const mark = () => sharp(fixture("thumbor-watermark.png")).ensureAlpha();

test("30x30 RGBA logo enlarged to 90x90: Pillow's LANCZOS pixels (premultiplied, fixed point)", async (t) => {
  const want = await rawOf(sharp(fixture("pillow-lanczos-watermark-90.png")).ensureAlpha());
  const got = pillowLanczosResize(await rawOf(mark()), 90, 90);
  t.is(got.width, 90);
  t.is(got.height, 90);
  const db = psnr(got.data, want.data);
  t.log(`${db} dB PSNR, worst sample ${maxAbsDiff(got.data, want.data)} level(s) off`);
  t.true(db >= 40);
  t.true(maxAbsDiff(got.data, want.data) <= 1);
});

test("a 60x40 photo cut enlarged to 200x133 (no integer scale): Pillow's LANCZOS pixels", async (t) => {
  const want = await rawOf(sharp(fixture("pillow-lanczos-raindrops-200.png")));
  const cut = await rawOf(sharp(fixture("raindrops-480.jpg")).extract({ left: 200, top: 100, width: 60, height: 40 }));
  const got = pillowLanczosResize(cut, 200, 133);
  t.true(psnr(got.data, want.data) >= 40);
  t.true(maxAbsDiff(got.data, want.data) <= 1);
});

test("one axis enlarged, the other reduced, and grey with alpha: sides as asked, grey stays two channels", (t) => {
  const grey: RawImage = { data: Buffer.alloc(8 * 6 * 2, 200), width: 8, height: 6, channels: 2, frames: 1 };
  const got = pillowLanczosResize(grey, 20, 3);
  t.deepEqual([got.width, got.height, got.channels, got.data.length], [20, 3, 2, 20 * 3 * 2]);
  // A flat picture stays flat: weights sum to one in fixed point too.
  t.true(got.data.every((v) => v === 200));
});

test("/unsafe/90x90/filters:background_color(ff00ff)/watermark.png: ≥ 40 dB from Pillow's resize and composite (sharp's enlargement: < 35)", async (t) => {
  const want = await rawOf(sharp(fixture("pillow-lanczos-watermark-90-ff00ff.png")).removeAlpha());
  const rendered = await renderVariant({
    plan: plan({ width: 90, height: 90, format: "png", filters: [{ name: "background_color", args: ["ff00ff"] }] }),
    original: fixture("thumbor-watermark.png"),
    settings,
  });
  const got = await rawOf(sharp(rendered.body).removeAlpha());
  t.deepEqual([got.width, got.height], [90, 90]);
  const db = psnr(got.data, want.data);
  t.log(`pipeline: ${db.toFixed(1)} dB`);
  t.true(db >= 40);
  // The reference tells the resamplers apart: sharp's own enlargement of the same logo is far off.
  const enlarged = await rawOf(mark().resize(90, 90, { fit: "fill", kernel: "lanczos3" }));
  const bySharp = await rawOf(
    sharp(enlarged.data, { raw: { width: 90, height: 90, channels: 4 } })
      .flatten({ background: "#ff00ff" })
      .removeAlpha(),
  );
  t.true(psnr(bySharp.data, want.data) < 35);
});

test("the photo cut through the pipeline (manual crop, then 200x133): ≥ 40 dB from Pillow's", async (t) => {
  const want = await rawOf(sharp(fixture("pillow-lanczos-raindrops-200.png")));
  const rendered = await renderVariant({
    plan: plan({ crop: { left: 200, top: 100, right: 260, bottom: 140 }, width: 200, height: 133, format: "png" }),
    original: fixture("raindrops-480.jpg"),
    settings,
  });
  const got = await rawOf(sharp(rendered.body));
  t.deepEqual([got.width, got.height], [200, 133]);
  t.true(psnr(got.data, want.data) >= 40);
});
