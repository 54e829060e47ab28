/**
 * Geometry filters: rotate (PIL's counter-clockwise transpose) and round_corner (thumbor's
 * painted corner runs). Both move or paint whole pixels, so the comparison with the reference is
 * exact: every pixel is either the reference's or a test fails.
 */
import test from "ava";
import sharp from "sharp";
import { rotate, thumborRotation } from "../handlers/lib/effects/rotate.js";
import { cornerRuns, roundCorner } from "../handlers/lib/effects/round-corner.js";
import { context, photo, runEffect, type Pixels } from "./helpers/effect-harness.js";
import { psnr } from "./helpers/psnr.js";
import * as ref from "./helpers/reference.js";

const pixel = (p: Pixels, x: number, y: number) => [...p.data.subarray((y * p.width + x) * p.channels, (y * p.width + x + 1) * p.channels)];

for (const [degrees, turns] of [[90, 1], [180, 2], [270, 3], [-90, 3], [540, 2], [-270, 1]] as const) {
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

function assertCorners(t: import("ava").ExecutionContext, input: Pixels, got: Pixels, a: number, b: number, colour: number[], transparent: boolean) {
  let painted = 0;
  for (let y = 0; y < input.height; y++) {
    for (let x = 0; x < input.width; x++) {
      const inCorner = ref.refCornerPainted(x, y, input.width, input.height, a, b);
      if (inCorner) painted++;
      const want = inCorner ? [...colour, ...(transparent ? [0] : [])] : [...pixel(input, x, y), ...(transparent ? [255] : [])];
      const have = pixel(got, x, y);
      if (have.join() !== want.join()) return t.fail(`pixel (${x},${y}) is ${have}, expected ${want}`);
    }
  }
  t.true(painted > 0);
  return t.pass(`${painted} corner pixels painted`);
}

test("round_corner(20,255,0,0) paints thumbor's corner runs red and nothing else", async (t) => {
  const input = await photo();
  const got = await runEffect(roundCorner, input, ["20", 255, 0, 0]);
  t.is(got.channels, 3);
  assertCorners(t, input, got, 20, 20, [255, 0, 0], false);
  t.deepEqual(pixel(got, 0, 0), [255, 0, 0]);
  t.deepEqual(pixel(got, 20, 20), pixel(input, 20, 20)); // the ellipse's centre is inside
  t.true(psnr(got.data, input.data) < 40);
});

test("round_corner(40|15,...) uses elliptical radii: wider than tall", async (t) => {
  const input = await photo();
  const got = await runEffect(roundCorner, input, ["40|15", 0, 128, 255]);
  assertCorners(t, input, got, 40, 15, [0, 128, 255], false);
  t.deepEqual(pixel(got, 30, 0), [0, 128, 255]); // 30 px along the top edge is still corner
  t.deepEqual(pixel(got, 0, 14), pixel(input, 0, 14)); // 14 px down the side is not
});

test("round_corner paints one pixel less on the right than on the left, as thumbor does", (t) => {
  const runs = cornerRuns(100, 80, 10, 10);
  t.true(runs.length > 0);
  for (const run of runs) t.is(run.right, run.left - 1);
  // Row 0 (the top edge) is painted over the whole radius on the left.
  t.is(runs.find((r) => r.row === 0)!.left, 10);
});

test("round_corner caps the radii at half the image's sides", async (t) => {
  const input = await photo();
  const huge = await runEffect(roundCorner, input, ["10000", 0, 0, 0]);
  assertCorners(t, input, huge, input.width / 2, input.height / 2, [0, 0, 0], false);
});

test("round_corner(..., true) makes the corners transparent and adds an alpha channel", async (t) => {
  const input = await photo();
  const got = await runEffect(roundCorner, input, ["25", 10, 20, 30, true]);
  t.is(got.channels, 4);
  assertCorners(t, input, got, 25, 25, [10, 20, 30], true);
  t.is(pixel(got, 0, got.height - 1)[3], 0);
  t.is(pixel(got, got.width / 2, got.height / 2)[3], 255);
});

test("round_corner refuses a radius that is not a or a|b", async (t) => {
  const err = await t.throwsAsync(runEffect(roundCorner, await photo(), ["1|2|3", 0, 0, 0]));
  t.regex(err!.message, /round_corner: the radius must be a number or a\|b/);
});
