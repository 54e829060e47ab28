/**
 * rotate: PIL's counter-clockwise transpose. It moves whole pixels, so the comparison with the
 * reference is exact: every pixel is either the reference's or a test fails.
 */
import test from "ava";
import sharp from "sharp";
import { rotate, thumborRotation } from "../../../handlers/render/effects/rotate.js";
import { pixel } from "../../helpers/effect-checks.js";
import { context, photo, runEffect } from "../../helpers/effect-harness.js";
import * as ref from "../../helpers/reference.js";

for (const [degrees, turns] of [
  [90, 1],
  [180, 2],
  [270, 3],
  [-90, 3],
  [540, 2],
  [-270, 1],
] as const) {
  test(`rotate(${degrees}) is PIL's counter-clockwise transpose by ${turns * 90}°`, async (t) => {
    const input = await photo();
    const got = await runEffect(rotate, input, [degrees]);
    const want = ref.refRotateCcw(input, turns);
    t.is(got.width, want.width);
    t.is(got.height, want.height);
    t.deepEqual(got.data, Buffer.from(want.data));
  });
}

test("rotate(90) swaps the sides and moves the top-right corner to the top-left", async (t) => {
  const input = await photo();
  const got = await runEffect(rotate, input, [90]);
  t.deepEqual([got.width, got.height], [input.height, input.width]);
  t.deepEqual(pixel(got, 0, 0), pixel(input, input.width - 1, 0));
  t.deepEqual(pixel(got, got.width - 1, got.height - 1), pixel(input, 0, input.height - 1));
});

for (const degrees of [91, 45, 0, 360, -720]) {
  test(`rotate(${degrees}) leaves the image as it is`, async (t) => {
    const input = await photo();
    const got = await runEffect(rotate, input, [degrees]);
    t.deepEqual([got.width, got.height], [input.width, input.height]);
    t.deepEqual(got.data, Buffer.from(input.data));
  });
}

test("thumborRotation follows thumbor's vectors (rotate(91) ignored, rotate(540) → 180)", (t) => {
  t.is(thumborRotation(91), null);
  t.is(thumborRotation(90), 90);
  t.is(thumborRotation(540), 180);
  t.is(thumborRotation(181), null);
  t.is(thumborRotation(-90), 270);
});

test("rotate turns every frame of an animated image on its own", async (t) => {
  // Two 3×2 frames stacked: frame 0 is dark with a red top-left pixel, frame 1 is light.
  const frame = (base: number) => Buffer.alloc(3 * 2 * 3, base);
  const data = Buffer.concat([frame(10), frame(200)]);
  data[0] = 255;
  const image = sharp(data, { raw: { width: 3, height: 4, channels: 3, pageHeight: 2 } });
  const out = await rotate(image, [90], context());
  const { data: px, info } = await out.raw().toBuffer({ resolveWithObject: true });
  t.deepEqual([info.width, info.height, info.pageHeight], [2, 6, 3]);
  // CCW: the old top-left goes to the bottom-left of frame 0 (row 2), frame 1 stays uniform.
  t.deepEqual([...px.subarray(2 * 2 * 3, 2 * 2 * 3 + 3)], [255, 10, 10]);
  t.true(px.subarray(2 * 3 * 3).every((v) => v === 200));
});
