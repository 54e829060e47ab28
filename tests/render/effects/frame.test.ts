/**
 * frame (nine-patch): a synthetic nine-patch with uniform cells (opaque red corners,
 * half-transparent blue edges, a transparent middle) framed around the photo. With uniform
 * cells thumbor's stretching and ours give the same cell colours, so the whole result can be
 * compared with a reference built from thumbor's rules: white padding from the content markers,
 * fixed cells kept, stretchy ones sharing the rest, each composited "over" (one level allowed for
 * rounding).
 */
import test from "ava";
import sharp from "sharp";
import { frame, ninePatchPadding, ninePatchSegments, segmentLengths } from "../../../handlers/render/effects/frame.js";
import { RequestError } from "../../../handlers/core/errors.js";
import { context, photo, runEffect, type Pixels } from "../../helpers/effect-harness.js";
import { maxAbsDiff } from "../../helpers/psnr.js";

const RED = [200, 0, 0, 255];
const BLUE = [0, 0, 255, 128];
const CLEAR = [0, 0, 0, 0];
const MARKER = [0, 0, 0, 255];

/** 12×12 nine-patch: stretchy interior columns/rows 5–6, content markers 3–8 (padding 2 on every side). */
function ninePatchPixels(): { data: Buffer; width: number; height: number } {
  const size = 12;
  const data = Buffer.alloc(size * size * 4);
  const set = (x: number, y: number, c: number[]) => data.set(c, (y * size + x) * 4);
  for (let y = 1; y < 11; y++)
    for (let x = 1; x < 11; x++) {
      const sx = x >= 5 && x <= 6,
        sy = y >= 5 && y <= 6;
      set(x, y, sx && sy ? CLEAR : sx || sy ? BLUE : RED);
    }
  for (const i of [5, 6]) {
    set(i, 0, MARKER);
    set(0, i, MARKER);
  }
  for (let i = 3; i <= 8; i++) {
    set(i, 11, MARKER);
    set(11, i, MARKER);
  }
  return { data, width: size, height: size };
}

async function ninePatchPng(): Promise<Buffer> {
  const np = ninePatchPixels();
  return sharp(np.data, { raw: { width: np.width, height: np.height, channels: 4 } })
    .png()
    .toBuffer();
}

const asRaw = () => ({ ...ninePatchPixels(), channels: 4 as const, frames: 1 });

test("nine-patch markers: padding from the bottom row and right column, segments from the top row and left column", (t) => {
  const np = asRaw();
  t.deepEqual(ninePatchPadding(np), { left: 2, top: 2, right: 2, bottom: 2 });
  t.deepEqual(ninePatchSegments(np, "x"), [
    { source: 1, length: 4, stretchy: false },
    { source: 5, length: 2, stretchy: true },
    { source: 7, length: 4, stretchy: false },
  ]);
  t.deepEqual(segmentLengths(ninePatchSegments(np, "x"), 484), [4, 476, 4]);
  // Two stretchy runs share the rest with thumbor's trunc(x + 0.5).
  t.deepEqual(
    segmentLengths(
      [
        { source: 1, length: 1, stretchy: true },
        { source: 2, length: 1, stretchy: false },
        { source: 3, length: 2, stretchy: true },
      ],
      10,
    ),
    [3, 1, 6],
  );
});

/** The reference: photo padded with white by 2, then each target pixel's cell colour "over" it. */
function reference(input: Pixels): Pixels {
  const width = input.width + 4,
    height = input.height + 4;
  const data = new Uint8Array(width * height * 3);
  const band = (v: number, size: number) => (v < 4 ? 0 : v >= size - 4 ? 2 : 1);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const inside = x >= 2 && y >= 2 && x < width - 2 && y < height - 2;
      const base = inside
        ? [...input.data.subarray(((y - 2) * input.width + x - 2) * 3, ((y - 2) * input.width + x - 2) * 3 + 3)]
        : [255, 255, 255];
      const bx = band(x, width),
        by = band(y, height);
      const cell = bx === 1 && by === 1 ? CLEAR : bx === 1 || by === 1 ? BLUE : RED;
      const a = cell[3] / 255;
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.round(cell[c] * a + base[c] * (1 - a));
    }
  return { data, width, height, channels: 3 };
}

test("frame(frame.png) pads the photo and composites the stretched nine-patch as thumbor does", async (t) => {
  const input = await photo();
  const asked: string[] = [];
  const png = await ninePatchPng();
  const got = await runEffect(
    frame,
    input,
    ["frame.png"],
    context({ loadObject: async (k) => (asked.push(k), k === "frame.png" ? png : null) }),
  );
  t.deepEqual(asked, ["frame.png"]);
  t.deepEqual([got.width, got.height, got.channels], [484, 304, 3]);
  const want = reference(input);
  const worst = maxAbsDiff(got.data, want.data);
  t.true(worst <= 1, `worst sample ${worst} levels off`);
  // Spot checks: a red corner, a blue edge over the white padding, the untouched middle.
  t.deepEqual([...got.data.subarray(0, 3)], [200, 0, 0]);
  const at = (x: number, y: number) => [...got.data.subarray((y * 484 + x) * 3, (y * 484 + x) * 3 + 3)];
  t.true(Math.abs(at(100, 0)[0] - 127) <= 1 && at(100, 0)[2] === 255);
  t.deepEqual(at(242, 152), [...input.data.subarray((150 * 480 + 240) * 3, (150 * 480 + 240) * 3 + 3)]);
});

test("frame with a missing nine-patch answers 400 naming the key", async (t) => {
  const err = await t.throwsAsync(runEffect(frame, await photo(), ["frames/none.png"], context()));
  t.true(err instanceof RequestError);
  t.is((err as RequestError).reason, "frame image not found: frames/none.png");
});
