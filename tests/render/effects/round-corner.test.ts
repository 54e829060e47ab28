/**
 * round_corner: thumbor's painted corner runs. It paints whole pixels, so the comparison with the
 * reference is exact: every pixel is either the reference's or a test fails.
 */
import test from "ava";
import sharp from "sharp";
import { cornerRuns, roundCorner } from "../../../handlers/render/effects/round-corner.js";
import { renderVariant } from "../../../handlers/render/pipeline.js";
import { pixel } from "../../helpers/effect-checks.js";
import { context, decode, photo, rgbOnly, runEffect, type Pixels } from "../../helpers/effect-harness.js";
import { plan, settings } from "../../helpers/images.js";
import { psnr } from "../../helpers/psnr.js";
import * as ref from "../../helpers/reference.js";

/**
 * thumbor's round_corner on a 20×20 grey (100) image, radius 4, black corners, worked out by
 * hand from `_round_corner.c`'s arithmetic (rows pass, then columns pass, float32, linear
 * offsets: the right-hand position past the last column wraps to the next row's first pixel).
 * Columns 0–4 and 15–19 of rows 0–4 and 15–19.
 */
const HAND_WORKED: Record<number, [number[], number[]]> = {
  0: [
    [0, 0, 37, 75, 100],
    [100, 100, 75, 37, 0],
  ],
  1: [
    [0, 56, 100, 100, 100],
    [100, 100, 100, 100, 56],
  ],
  2: [
    [28, 100, 100, 100, 100],
    [100, 100, 100, 100, 100],
  ],
  3: [
    [56, 100, 100, 100, 100],
    [100, 100, 100, 100, 100],
  ],
  4: [
    [75, 100, 100, 100, 100],
    [100, 100, 100, 100, 100],
  ],
  15: [
    [100, 100, 100, 100, 100],
    [100, 100, 100, 100, 100],
  ],
  16: [
    [75, 100, 100, 100, 100],
    [100, 100, 100, 100, 100],
  ],
  17: [
    [56, 100, 100, 100, 100],
    [100, 100, 100, 100, 100],
  ],
  18: [
    [28, 75, 100, 100, 100],
    [100, 100, 100, 100, 75],
  ],
  19: [
    [0, 0, 37, 75, 100],
    [100, 100, 75, 37, 0],
  ],
};

test("round_corner(4,0,0,0) on a grey 20×20 image gives thumbor's painted and anti-aliased corners, pixel for pixel", async (t) => {
  const grey = { data: new Uint8Array(20 * 20 * 3).fill(100), width: 20, height: 20, channels: 3 };
  const got = await runEffect(roundCorner, grey, ["4", 0, 0, 0]);
  for (const [row, [left, right]] of Object.entries(HAND_WORKED)) {
    const y = Number(row);
    t.deepEqual(
      [0, 1, 2, 3, 4].map((x) => pixel(got, x, y)[0]),
      left,
      `row ${y}, left`,
    );
    t.deepEqual(
      [15, 16, 17, 18, 19].map((x) => pixel(got, x, y)[0]),
      right,
      `row ${y}, right`,
    );
  }
  // Grey stays grey, and the middle is untouched.
  for (let i = 0; i < got.data.length; i += 3) t.true(got.data[i] === got.data[i + 1] && got.data[i] === got.data[i + 2]);
  for (let y = 5; y < 15; y++) for (let x = 0; x < 20; x++) if (!(x === 0 && y >= 5 && y <= 14)) t.is(pixel(got, x, y)[0], 100);
});

/** Pixels outside the four corner boxes (a+1 wide, b+1 high; one more row for thumbor's wrap onto column 0) must be untouched. */
function assertOnlyCorners(t: import("ava").ExecutionContext, input: Pixels, got: Pixels, a: number, b: number) {
  for (let y = 0; y < input.height; y++) {
    for (let x = 0; x < input.width; x++) {
      const nearX = x <= a || x >= input.width - a - 1;
      const nearY = y <= b + 1 || y >= input.height - b - 2;
      if (nearX && nearY) continue;
      if (pixel(got, x, y).slice(0, 3).join() !== pixel(input, x, y).join()) return t.fail(`pixel (${x},${y}) changed outside the corners`);
    }
  }
  return t.pass();
}

test("round_corner(20,255,0,0) on the photo: corners red, anti-aliased edge, nothing else touched", async (t) => {
  const input = await photo();
  const got = await runEffect(roundCorner, input, ["20", 255, 0, 0]);
  t.is(got.channels, 3);
  assertOnlyCorners(t, input, got, 20, 20);
  // The painted run away from the arc stays pure red; the arc itself is blended.
  let painted = 0,
    red = 0;
  for (let y = 0; y < input.height; y++)
    for (let x = 0; x < input.width; x++) {
      if (!ref.refCornerPainted(x, y, input.width, input.height, 20, 20)) continue;
      painted++;
      if (pixel(got, x, y).join() === "255,0,0") red++;
    }
  t.true(painted > 300 && red / painted > 0.7, `${red} of ${painted} painted pixels pure red`);
  t.deepEqual(pixel(got, 0, 0), [255, 0, 0]);
  t.deepEqual(pixel(got, 20, 20), pixel(input, 20, 20)); // the ellipse's centre is inside
  t.true(psnr(got.data, input.data) < 40);
});

test("round_corner(40|15,...) uses elliptical radii: wider than tall", async (t) => {
  const input = await photo();
  const got = await runEffect(roundCorner, input, ["40|15", 0, 128, 255]);
  assertOnlyCorners(t, input, got, 40, 15);
  t.deepEqual(pixel(got, 20, 0), [0, 128, 255]); // 20 px along the top edge is still corner
  t.notDeepEqual(pixel(got, 0, 12), [0, 128, 255]); // 12 px down the side is only feathered by the column pass
  t.deepEqual(pixel(got, 0, 16), pixel(input, 0, 16)); // and below the radius the side is untouched
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
  const capped = await runEffect(roundCorner, input, ["10000", 0, 0, 0]);
  const half = await runEffect(roundCorner, input, [`${input.width / 2}|${input.height / 2}`, 0, 0, 0]);
  t.deepEqual(capped.data, half.data);
});

test("round_corner(..., true) makes exactly thumbor's painted runs transparent and adds an alpha channel", async (t) => {
  const input = await photo();
  const got = await runEffect(roundCorner, input, ["25", 10, 20, 30, true]);
  t.is(got.channels, 4);
  for (let y = 0; y < input.height; y++)
    for (let x = 0; x < input.width; x++) {
      const want = ref.refCornerPainted(x, y, input.width, input.height, 25, 25) ? 0 : 255;
      if (pixel(got, x, y)[3] !== want) return t.fail(`alpha at (${x},${y}) is ${pixel(got, x, y)[3]}, expected ${want}`);
    }
  assertOnlyCorners(t, input, got, 25, 25);
  t.deepEqual(pixel(got, 0, got.height - 1), [10, 20, 30, 0]);
});

test("round_corner(4,0,0,0,true) on a JPEG variant: thumbor's corners with the alpha dropped, not flattened onto white", async (t) => {
  // Black corners: thumbor's transparent-mode blend (last · (1 - aa)) equals the coloured one, so
  // the hand-worked grid is what thumbor's JPEG shows once Pillow has dropped the alpha.
  const grey = await sharp(Buffer.alloc(20 * 20 * 3, 100), { raw: { width: 20, height: 20, channels: 3 } })
    .png()
    .toBuffer();
  const filters = [{ name: "round_corner", args: ["4", 0, 0, 0, true] }];
  const out = await renderVariant({ plan: plan({ format: "jpeg", quality: 100, filters }), original: grey, settings });
  const got = await decode(out.body);
  for (const [row, [left, right]] of Object.entries(HAND_WORKED)) {
    const y = Number(row);
    const seen = [...[0, 1, 2, 3, 4], ...[15, 16, 17, 18, 19]].map((x) => pixel(got, x, y)[0]!);
    const want = [...left, ...right];
    t.true(
      seen.every((v, i) => Math.abs(v - want[i]!) <= 3),
      `row ${y}: got ${seen.join(",")}, thumbor ${want.join(",")}`,
    );
  }
});

test("round_corner(..., true) for a JPEG paints the corners in transparent mode without adding alpha", async (t) => {
  const input = await photo();
  const forJpeg = await runEffect(roundCorner, input, ["25", 10, 20, 30, true], context({ outputFormat: "jpeg" }));
  const withAlpha = await runEffect(roundCorner, input, ["25", 10, 20, 30, true], context({ outputFormat: "png" }));
  t.is(forJpeg.channels, 3);
  t.deepEqual(forJpeg.data, Buffer.from(rgbOnly(withAlpha)), "same colours as the transparent PNG, alpha dropped");
  t.deepEqual(pixel(forJpeg, 0, forJpeg.height - 1), [10, 20, 30]);
  assertOnlyCorners(t, input, forJpeg, 25, 25);
});

test("round_corner(0,...) changes nothing", async (t) => {
  const input = await photo();
  t.deepEqual((await runEffect(roundCorner, input, ["0", 255, 0, 0])).data, Buffer.from(input.data));
});

test("round_corner refuses a radius that is not a or a|b", async (t) => {
  const err = await t.throwsAsync(runEffect(roundCorner, await photo(), ["1|2|3", 0, 0, 0]));
  t.regex(err!.message, /round_corner: the radius must be a number or a\|b/);
});
