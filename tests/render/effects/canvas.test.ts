/**
 * Canvas filters, rendered through the pipeline and compared with thumbor's arithmetic
 * (tests/helpers/reference.ts): fill(auto)'s colour and background_color's merge.
 */
import test from "ava";
import sharp from "sharp";
import { renderVariant } from "../../../handlers/render/pipeline.js";
import type { TransformPlan } from "../../../handlers/core/plan.js";
import { decode } from "../../helpers/effect-harness.js";
import { fixture, plan, settings } from "../../helpers/images.js";
import * as ref from "../../helpers/reference.js";

async function render(original: Buffer, over: Partial<TransformPlan>) {
  return decode((await renderVariant({ plan: plan(over), original, settings })).body);
}

test("fill(auto) with fit-in paints thumbor's colour: the integer mean of the resized image, not its median", async (t) => {
  const photo = fixture("raindrops-480.jpg");
  const fitted = await render(photo, { format: "png", fit: "fit-in", width: 300, height: 300 });
  const filled = await render(photo, {
    format: "png",
    fit: "fit-in",
    width: 300,
    height: 300,
    filters: [{ name: "fill", args: ["auto"] }],
  });
  t.deepEqual([filled.width, filled.height], [300, 300]);
  const top = Math.floor((300 - fitted.height) / 2);
  t.true(top > 0, "the photo is letterboxed");
  const want = ref.refAutoFillColour(fitted);
  const at = (y: number) => [...filled.data.subarray(y * 300 * filled.channels, y * 300 * filled.channels + 3)];
  t.deepEqual(at(0), want, "band above the photo");
  t.deepEqual(at(299), want, "band below the photo");
  const middle = filled.data.subarray(top * 300 * filled.channels, (top + fitted.height) * 300 * filled.channels);
  t.deepEqual(Buffer.from(middle), Buffer.from(fitted.data), "the photo itself is untouched");
});

/** A 64×16 RGBA image: colours across, alpha from 0 to 255 down and across (every blend weight). */
async function alphaRamp(): Promise<Buffer> {
  const data = Buffer.alloc(64 * 16 * 4);
  for (let y = 0; y < 16; y++)
    for (let x = 0; x < 64; x++) {
      data.set([x * 4, 255 - x * 4, (x * 37 + y * 11) & 255, Math.min(255, x * 4 + y * 17)], (y * 64 + x) * 4);
    }
  return sharp(data, { raw: { width: 64, height: 16, channels: 4 } })
    .png()
    .toBuffer();
}

test("background_color on a PNG with alpha keeps an RGBA PNG, merged with thumbor's arithmetic", async (t) => {
  const source = await alphaRamp();
  const original = await decode(source);
  const got = await render(source, { format: "png", filters: [{ name: "background_color", args: ["ff8000"] }] });
  t.is(got.channels, 4, "thumbor's output keeps its alpha channel");
  t.deepEqual(Buffer.from(got.data), Buffer.from(ref.refBackgroundColour(original, [255, 128, 0])));
});

test("background_color(transparent) changes nothing; an opaque image keeps its pixels", async (t) => {
  const source = await alphaRamp();
  const same = await render(source, { format: "png", filters: [{ name: "background_color", args: ["transparent"] }] });
  t.deepEqual(Buffer.from(same.data), Buffer.from((await decode(source)).data));
  const photo = fixture("raindrops-480.jpg");
  const opaque = await render(photo, { format: "png", filters: [{ name: "background_color", args: ["red"] }] });
  t.deepEqual(Buffer.from(opaque.data), Buffer.from((await render(photo, { format: "png" })).data));
});

test("background_color then JPEG: the transparent pixels become the colour", async (t) => {
  const got = await render(await alphaRamp(), { format: "jpeg", quality: 100, filters: [{ name: "background_color", args: ["0000ff"] }] });
  const first = [...got.data.subarray(0, 3)]; // alpha 0 in the source
  t.true(first[0]! < 30 && first[1]! < 30 && first[2]! > 220, `got ${first.join(",")}`); // JPEG chroma subsampling blends neighbours
});
