/**
 * `meta` plans answer thumbor's JSON document without encoding an image.
 */
import test from "ava";
import { renderVariant } from "../../handlers/render/pipeline.js";
import type { TransformPlan } from "../../handlers/core/plan.js";
import { fixture, plan, settings } from "../helpers/images.js";

async function meta(name: string, over: Partial<TransformPlan> = {}) {
  const out = await renderVariant({ plan: plan({ meta: true, source: name, ...over }), original: fixture(name), settings });
  return { out, doc: JSON.parse(out.body.toString("utf8")) };
}

test("CMYK + EXIF orientation 6 with 0x0: target 533x800 (thumbor with RESPECT_ORIENTATION)", async (t) => {
  const { out, doc } = await meta("giunchedi-cmyk-orientation-exif.jpg");
  t.is(out.contentType, "application/json");
  t.is(out.format, "json");
  t.deepEqual(doc.thumbor.target, { width: 533, height: 800 });
  t.deepEqual(doc.thumbor.source, { url: "giunchedi-cmyk-orientation-exif.jpg", width: 533, height: 800, frameCount: 1 });
  t.deepEqual(doc.thumbor.operations, []);
  t.deepEqual([out.width, out.height], [533, 800]);
});

test("animated.gif reports frameCount 2", async (t) => {
  const { doc } = await meta("animated.gif");
  t.is(doc.thumbor.source.frameCount, 2);
  t.deepEqual(doc.thumbor.target, { width: 100, height: 100 });
});

test("meta lists the crop, resize and flips thumbor would make, and the focal points", async (t) => {
  // image.jpg is 300x400.
  const { doc } = await meta("image.jpg", { width: 200, height: 100, flipVertical: true });
  // 200/300 = 0.667 > 100/400 = 0.25 → crop_w = 300, crop_h = round(300*100/200) = 150, top = round(200 - 75) = 125
  t.deepEqual(doc.thumbor.operations, [
    { type: "crop", left: 0, top: 125, right: 300, bottom: 275 },
    { type: "resize", width: 200, height: 100 },
    { type: "flip_vertically" },
  ]);
  t.deepEqual(doc.thumbor.target, { width: 200, height: 100 });
  t.deepEqual(doc.thumbor.focal_points, [{ x: 150, y: 200, z: 1, height: 1, width: 1, origin: "alignment" }]);
});

test("meta of an oversized original is still refused before decoding", async (t) => {
  const err = await t.throwsAsync(renderVariant({ plan: plan({ meta: true }), original: fixture("9643x10328.jpg"), settings }));
  t.is((err as any).status, 400);
});
