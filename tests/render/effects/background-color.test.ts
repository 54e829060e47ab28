/**
 * background_color, rendered through the pipeline and compared with thumbor's arithmetic
 * (tests/helpers/reference.ts): its merge.
 */
import test from "ava";
import sharp from "sharp";
import { render } from "../../helpers/effect-checks.js";
import { decode } from "../../helpers/effect-harness.js";
import { fixture } from "../../helpers/images.js";
import * as ref from "../../helpers/reference.js";

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
