/**
 * The smaller JPEG decode (handlers/render/draft.ts): where sharp would take one shrink-on-load
 * step less than the factor allows (its guard for factors from 2 to 3, 4 to 5 and 8 to 9), the
 * render decodes at that fraction itself, as Pillow's `draft` does for thumbor.
 */
import test from "ava";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import sharp from "sharp";
import { draftScale } from "../../handlers/render/draft.js";
import { renderVariant } from "../../handlers/render/pipeline.js";
import { stillEncoderOptions } from "../../handlers/render/encode.js";
import { fixture, plan, settings } from "../helpers/images.js";

/** This process's temporary originals (other test files render in other processes meanwhile). */
const leftovers = () => readdirSync(tmpdir()).filter((f) => f.startsWith(`edge-resizer-${process.pid}-`));

test("the scale is asked for exactly where sharp takes one step less: factors 2-3, 4-5 and 8-9", (t) => {
  const size = { width: 4000, height: 3000 };
  const at = (factor: number) => draftScale(size, { width: Math.floor(4000 / factor), height: Math.floor(3000 / factor) });
  t.is(at(1.5), null, "no shrink at all");
  t.is(at(2), 2);
  t.is(at(2.4), 2);
  t.is(at(2.99), 2);
  t.is(at(3.2), null, "sharp decodes at 1/2 itself");
  t.is(at(4), 4);
  t.is(at(4.9), 4);
  t.is(at(6), null, "sharp decodes at 1/4 itself");
  t.is(at(8.5), 8);
  t.is(at(12), null, "sharp decodes at 1/8 itself");
  // The non-proportional case: the smaller factor decides.
  t.is(draftScale(size, { width: 1000, height: 1400 }), 2);
  // Rounded down, 1/2 of 1001 px would be 500 px, short of a 501 px target: no draft.
  t.is(draftScale({ width: 1001, height: 1001 }, { width: 501, height: 400 }), null);
});

test("RainDrops at 2.4x: decoded at 1/2 as Pillow's draft does, the same pixels as libvips' own shrink=2 load", async (t) => {
  const original = fixture("raindrops-480.jpg"); // 480x300 → 200x125
  const out = await renderVariant({ plan: plan({ width: 200, height: 125, format: "jpeg" }), original, settings });
  t.deepEqual([out.width, out.height], [200, 125]);
  // Independent references: libvips told to load at 1/2 and told nothing.
  const file = join(tmpdir(), "draft-reference.jpg");
  writeFileSync(file, original);
  t.teardown(() => rmSync(file, { force: true }));
  const encode = stillEncoderOptions("jpeg", 80);
  const half = await sharp(`${file}[shrink=2]`).resize(200, 125, { fit: "fill" }).jpeg(encode).toBuffer();
  const full = await sharp(original).resize(200, 125, { fit: "fill" }).jpeg(encode).toBuffer();
  t.false(half.equals(full), "the two decodes really differ");
  t.true(out.body.equals(half), "the render decoded at 1/2");
  t.deepEqual(leftovers(), [], "the temporary original is gone");
});

test("a crop cut before the resize, or a factor sharp handles, keeps the in-memory decode", async (t) => {
  const original = fixture("raindrops-480.jpg");
  const full = (w: number, h: number) => sharp(original).resize(w, h, { fit: "fill" }).jpeg(stillEncoderOptions("jpeg", 80)).toBuffer();
  const sharpOwn = await renderVariant({ plan: plan({ width: 150, height: 0, format: "jpeg" }), original, settings }); // 3.2x
  t.true(sharpOwn.body.equals(await full(150, 94)));
  const cropped = await renderVariant({
    plan: plan({ crop: { left: 0, top: 0, right: 480, bottom: 300 }, width: 200, height: 125, format: "jpeg" }),
    original,
    settings,
  });
  const cropFirst = await sharp(original)
    .extract({ left: 0, top: 0, width: 480, height: 300 })
    .resize(200, 125, { fit: "fill" })
    .jpeg(stillEncoderOptions("jpeg", 80))
    .toBuffer();
  t.true(cropped.body.equals(cropFirst), "cut first, then resized from the full decode");
  t.deepEqual(leftovers(), []);
});
