/**
 * CMYK originals: colour-managed through the embedded profile by default; thumbor's naive
 * conversion (Pillow, profile ignored) with cmykConversion "naive".
 */
import test from "ava";
import sharp from "sharp";
import { renderVariant } from "../../handlers/render/pipeline.js";
import { decode } from "../helpers/effect-harness.js";
import { fixture, plan, settings } from "../helpers/images.js";
import * as ref from "../helpers/reference.js";

const naive = { ...settings, cmykConversion: "naive" as const };

async function pixels(name: string, s = settings) {
  return decode((await renderVariant({ plan: plan({ format: "png" }), original: fixture(name), settings: s })).body);
}

/** The ink values as the JPEG holds them (libvips' CMYK pipeline: no conversion at all). */
async function inks(name: string): Promise<Uint8Array> {
  return sharp(fixture(name)).pipelineColourspace("cmyk").toColourspace("cmyk").raw().toBuffer();
}

test("40 % cyan, 18 % yellow with a profile: (149, 213, 213) colour-managed, thumbor's (153, 254, 210) when naive", async (t) => {
  t.deepEqual([...(await inks("cmyk-icc.jpg")).subarray(0, 4)], [102, 1, 45, 0], "the fixture's first pixel");
  t.deepEqual([...(await pixels("cmyk-icc.jpg")).data.subarray(0, 3)], [149, 213, 213]);
  t.deepEqual([...(await pixels("cmyk-icc.jpg", naive)).data.subarray(0, 3)], [153, 254, 210]);
});

for (const name of ["cmyk-icc.jpg", "cmyk.jpg"]) {
  test(`naive: ${name} is Pillow's conversion of its inks, pixel for pixel`, async (t) => {
    const got = await pixels(name, naive);
    t.is(got.channels, 3);
    t.deepEqual(Buffer.from(got.data), Buffer.from(ref.refPillowCmykToRgb(await inks(name))));
  });
}

test("naive keeps EXIF orientation (Giunchedi, orientation 6, YCCK) and leaves RGB originals alone", async (t) => {
  const rotated = await pixels("giunchedi-cmyk-orientation-exif.jpg", naive);
  t.deepEqual([rotated.width, rotated.height], [533, 800]);
  const rgb = await pixels("raindrops-480.jpg", naive);
  t.deepEqual(Buffer.from(rgb.data), Buffer.from((await pixels("raindrops-480.jpg")).data));
});
