/**
 * `smart`: sharp's attention crop by default; with thumbor.smartCrop "alignment", thumbor without
 * detectors (its default), where `smart` changes nothing and the crop stays on the alignment.
 */
import test from "ava";
import { renderVariant } from "../../handlers/render/pipeline.js";
import type { TransformPlan } from "../../handlers/core/plan.js";
import { decode } from "../helpers/effect-harness.js";
import { quadrantImage, plan, settings } from "../helpers/images.js";
import type { Settings } from "../../handlers/core/settings.js";
import { psnr } from "../helpers/psnr.js";
import sharp from "sharp";

const aligned: Settings = { ...settings, thumbor: { ...settings.thumbor, smartCrop: "alignment" } };

/** A 400×200 grey image with one busy square near its left edge: attention moves towards it, the centre crop does not. */
async function offCentreDetail(): Promise<Buffer> {
  const data = Buffer.alloc(400 * 200 * 3, 128);
  for (let y = 60; y < 140; y++)
    for (let x = 10; x < 90; x++) data.set(((x >> 2) + (y >> 2)) % 2 ? [255, 0, 0] : [0, 0, 255], (y * 400 + x) * 3);
  return sharp(data, { raw: { width: 400, height: 200, channels: 3 } })
    .png()
    .toBuffer();
}

async function render(original: Buffer, over: Partial<TransformPlan>, s = settings) {
  return decode((await renderVariant({ plan: plan({ format: "png", width: 200, height: 200, ...over }), original, settings: s })).body);
}

test("alignment: smart gives thumbor's centre crop, the same pixels as without smart", async (t) => {
  const original = await offCentreDetail();
  const centre = await render(original, {}, aligned);
  // Independent reference: the middle 200×200 of the 400×200 original, nothing resized.
  const want = await sharp(original).extract({ left: 100, top: 0, width: 200, height: 200 }).raw().toBuffer();
  t.deepEqual(Buffer.from(centre.data), want);
  t.deepEqual(Buffer.from((await render(original, { smart: true }, aligned)).data), want);
});

test("alignment: smart with halign left crops on the left, as thumbor without detectors", async (t) => {
  const original = await quadrantImage(400, 200);
  const want = await sharp(original).extract({ left: 0, top: 0, width: 200, height: 200 }).raw().toBuffer();
  t.deepEqual(Buffer.from((await render(original, { smart: true, halign: "left" }, aligned)).data), want);
});

test("attention (default): smart moves the window towards the detail", async (t) => {
  const original = await offCentreDetail();
  const centre = await render(original, {});
  const attention = await render(original, { smart: true });
  t.true(psnr(attention.data, centre.data) < 30, "the attention crop is not the centre crop");
});
