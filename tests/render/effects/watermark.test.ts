/**
 * watermark: positions and sizes against thumbor's vectors (tests/fixtures/thumbor-vectors,
 * filter_semantics) and its placement rules, then pixels: the effect on the photo against a
 * reference "over" composite of thumbor's alpha-lowered watermark (thumbor's own test
 * watermark.png) at the computed position; everything outside the watermark must be untouched.
 *
 * Threshold inside the watermark: one level (sharp's compositing rounds, thumbor truncates;
 * 16-bit → 8-bit conversion of the PNG may differ by one).
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { watermark, watermarkPositions, watermarkSize } from "../../../handlers/render/effects/watermark.js";
import { RequestError } from "../../../handlers/core/errors.js";
import { DEFAULT_SETTINGS } from "../../../handlers/core/settings.js";
import { FIXTURES, context, decode, photo, runEffect, type Pixels } from "../../helpers/effect-harness.js";
import { maxAbsDiff } from "../../helpers/psnr.js";
import * as ref from "../../helpers/reference.js";

const MARK_BYTES = readFileSync(join(FIXTURES, "images", "thumbor-watermark.png"));
const VECTORS = JSON.parse(readFileSync(join(FIXTURES, "thumbor-vectors", "thumbor_filter_vectors.json"), "utf8")) as {
  filter_semantics: { filter: string; input?: { pos: string; length: number }; expect: unknown }[];
};
const MARK = { width: 30, height: 30 };

function bucket(objects: Record<string, Buffer>) {
  const asked: string[] = [];
  return { asked, ctx: context({ loadObject: async (key) => (asked.push(key), objects[key] ?? null) }) };
}

/** The watermark as thumbor holds it after `_alpha.apply`: RGBA with alpha lowered by trunc(255·alpha/100). */
async function loweredMark(alpha: number): Promise<Pixels> {
  const { data, info } = await sharp(MARK_BYTES).ensureAlpha().raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  const out = new Uint8Array(data);
  for (let i = 3; i < out.length; i += 4) out[i] = Math.max(0, out[i] - Math.floor((255 * alpha) / 100));
  return { data: out, width: info.width, height: info.height, channels: 4 };
}

/** Bounding box of the pixels that differ between two images of the same size. */
function changedBox(a: Pixels, b: Pixels) {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < a.height; y++)
    for (let x = 0; x < a.width; x++) {
      const i = (y * a.width + x) * a.channels;
      if (a.data[i] !== b.data[i] || a.data[i + 1] !== b.data[i + 1] || a.data[i + 2] !== b.data[i + 2]) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    }
  return { left: x0, top: y0, right: x1, bottom: y1 };
}

test("thumbor's equivalent positions: 4p,-30p = 32,-160 and 4p,center = 32,center on an 800×533 image", (t) => {
  const image = { width: 800, height: 533 };
  const equivalents = VECTORS.filter_semantics.filter(
    (v) => v.filter.startsWith("watermark(") && typeof v.expect === "object" && v.expect !== null && "equivalent_to" in v.expect,
  );
  t.is(equivalents.length, 3);
  for (const v of equivalents) {
    const [, given] = /watermark\(watermark\.png,([^,]+,[^,]+),60\)/.exec(v.filter)!;
    const [, wanted] = /watermark\(watermark\.png,([^,]+,[^,]+),60\)/.exec((v.expect as { equivalent_to: string }).equivalent_to)!;
    const [gx, gy] = given.split(","),
      [wx, wy] = wanted.split(",");
    t.deepEqual(watermarkPositions(image, MARK, gx, gy), watermarkPositions(image, MARK, wx, wy), v.filter);
  }
  // And the numbers themselves: 32 from the left, 160 from the bottom edge.
  t.deepEqual(watermarkPositions(image, MARK, "4p", "-30p"), [{ left: 32, top: 533 - 30 - 160 }]);
});

test("thumbor's detect_and_get_ratio_position vectors place the watermark where thumbor does", (t) => {
  const helpers = VECTORS.filter_semantics.filter((v) => v.filter.startsWith("watermark position helper"));
  t.is(helpers.length, 10);
  for (const v of helpers) {
    const { pos, length } = v.input!;
    const expected = String(v.expect);
    const [{ left }] = watermarkPositions({ width: length, height: 100 }, MARK, pos, "0").slice(0, 1);
    const want =
      expected === "center"
        ? Math.trunc((length - MARK.width) / 2)
        : expected === "repeat"
          ? 0
          : expected.startsWith("-")
            ? length - MARK.width + Number(expected)
            : Number(expected);
    t.is(left, want, `${pos} on ${length}`);
  }
});

test("watermark positions: negative offsets count from the far edge, -0 included; center truncates", (t) => {
  const image = { width: 101, height: 60 };
  t.deepEqual(watermarkPositions(image, MARK, "-10", "-0"), [{ left: 101 - 30 - 10, top: 30 }]);
  t.deepEqual(watermarkPositions(image, MARK, "center", "center"), [{ left: 35, top: 15 }]);
  t.deepEqual(watermarkPositions({ width: 20, height: 25 }, MARK, "center", "center"), [{ left: -5, top: -2 }]);
});

test("watermark repeat: divmod tiles spaced evenly; fewer than two fit → ceil tiles 10 px apart; >100 tiles → 6×6", (t) => {
  // 100 / 30 = 3 tiles, 10 px left over, spaced 10 // 2 = 5.
  t.deepEqual(
    watermarkPositions({ width: 100, height: 40 }, MARK, "repeat", "5").map((p) => p.left),
    [0, 35, 70],
  );
  // 50 / 30 < 2: ceil = 2 tiles, 10 px apart.
  t.deepEqual(
    watermarkPositions({ width: 50, height: 40 }, MARK, "repeat", "0").map((p) => p.left),
    [0, 40],
  );
  // 400×400 with 30×30: 13×13 = 169 > 100 tiles → 6×6, spaced (400 - 180) // 5 = 44.
  const tiles = watermarkPositions({ width: 400, height: 400 }, MARK, "repeat", "repeat");
  t.is(tiles.length, 36);
  t.deepEqual([...new Set(tiles.map((p) => p.left))], [0, 74, 148, 222, 296, 370]);
});

test("watermark size: w_ratio/h_ratio fit it inside that share of the image (Python rounding)", (t) => {
  t.deepEqual(watermarkSize({ width: 800, height: 533 }, MARK, null, null), MARK);
  t.deepEqual(watermarkSize({ width: 800, height: 533 }, MARK, 0.1, null), { width: 80, height: 80 });
  t.deepEqual(watermarkSize({ width: 800, height: 533 }, MARK, null, 0.1), { width: 53, height: 53 });
  t.deepEqual(watermarkSize({ width: 800, height: 533 }, { width: 60, height: 30 }, 0.1, 0.1), { width: 80, height: 40 });
  t.deepEqual(watermarkSize({ width: 800, height: 533 }, { width: 30, height: 60 }, 0.1, 0.1), { width: 27, height: 53 });
  t.deepEqual(watermarkSize({ width: 25, height: 100 }, { width: 10, height: 10 }, 0.1, null), { width: 2, height: 2 }); // 2.5 → 2
});

for (const [x, y, alpha, left, top] of [
  ["10", "20", 0, 10, 20],
  ["-15", "-0", 60, 480 - 30 - 15, 300 - 30],
  ["center", "10p", 30, 225, 30],
  ["-5", "-290", 0, 480 - 30 - 5, 300 - 30 - 290], // partly above the top edge: clipped
] as const) {
  test(`watermark(mark.png,${x},${y},${alpha}) composites thumbor's watermark at (${left},${top}) and nowhere else`, async (t) => {
    const input = await photo();
    const { ctx, asked } = bucket({ "mark.png": MARK_BYTES });
    const got = await runEffect(watermark, input, ["mark.png", x, y, alpha], ctx);
    t.deepEqual(asked, ["mark.png"]);
    t.is(got.channels, 3);
    const want = ref.refOver(input, await loweredMark(alpha), left, top);
    const worst = maxAbsDiff(got.data, want);
    t.log(`worst sample ${worst} level(s) off`);
    t.true(worst <= 1, `worst sample ${worst} levels off`);
    const box = changedBox(got, input);
    t.true(box.left >= Math.max(0, left) && box.top >= Math.max(0, top), JSON.stringify(box));
    t.true(box.right < left + 30 && box.bottom < top + 30, JSON.stringify(box));
    t.true(box.right >= box.left, "the watermark changed some pixels");
  });
}

test("watermark alpha 100 leaves the photo untouched", async (t) => {
  const input = await photo();
  const got = await runEffect(watermark, input, ["mark.png", "0", "0", 100], bucket({ "mark.png": MARK_BYTES }).ctx);
  t.deepEqual(got.data, Buffer.from(input.data));
});

test("watermark repeat tiles the photo with thumbor's tile positions", async (t) => {
  const input = await photo();
  const got = await runEffect(watermark, input, ["mark.png", "repeat", "repeat", 0], bucket({ "mark.png": MARK_BYTES }).ctx);
  const mark = await loweredMark(0);
  let want: Pixels = input;
  const tiles = watermarkPositions({ width: 480, height: 300 }, MARK, "repeat", "repeat");
  t.is(tiles.length, 36); // 16×10 tiles > 100 → 6×6
  for (const p of tiles) want = { ...want, data: ref.refOver(want, mark, p.left, p.top) };
  t.true(maxAbsDiff(got.data, want.data) <= 1);
});

test("watermark w_ratio resizes the watermark to fit that share of the photo", async (t) => {
  const input = await photo();
  const got = await runEffect(watermark, input, ["mark.png", "0", "0", 0, 20], bucket({ "mark.png": MARK_BYTES }).ctx);
  // 20 % of 480 = 96 px wide, square watermark → 96×96 at the top-left corner.
  const box = changedBox(got, input);
  t.true(box.right > 60 && box.right < 96 && box.bottom > 60 && box.bottom < 96, JSON.stringify(box));
  t.is(box.left >= 0 && box.top >= 0, true);
});

test("watermark reads its image under the same key mapping as originals (pathPrefix, stripHosts, one percent-decoding)", async (t) => {
  const input = await photo();
  const settings = { ...DEFAULT_SETTINGS, thumbor: { ...DEFAULT_SETTINGS.thumbor, pathPrefix: "st", stripHosts: ["cdn.example.com"] } };
  const { ctx, asked } = bucket({ "st/logos/my logo.png": MARK_BYTES });
  await runEffect(watermark, input, ["https://cdn.example.com/logos/my%20logo.png", "0", "0", 0], { ...ctx, settings });
  t.deepEqual(asked, ["st/logos/my logo.png"]);
});

test("watermark with a missing or undecodable image answers 400 naming the key", async (t) => {
  const input = await photo();
  for (const objects of [{}, { "mark.png": Buffer.from("not an image") }] as Record<string, Buffer>[]) {
    const err = await t.throwsAsync(runEffect(watermark, input, ["mark.png", "0", "0", 0], bucket(objects).ctx));
    t.true(err instanceof RequestError);
    t.is((err as RequestError).status, 400);
    t.is((err as RequestError).reason, "watermark image not found: mark.png");
  }
});

test("watermark refuses an absolute URL of a host that is not in stripHosts", async (t) => {
  const err = await t.throwsAsync(runEffect(watermark, await photo(), ["http://evil.example/x.png", "0", "0", 0], bucket({}).ctx));
  t.is((err as RequestError).status, 400);
  t.regex((err as RequestError).reason, /^watermark: absolute image URLs are not served/);
});

test("watermark lands on every frame of an animated image", async (t) => {
  const frame = await decode(
    await sharp({ create: { width: 40, height: 40, channels: 3, background: "#204060" } })
      .png()
      .toBuffer(),
  );
  const data = Buffer.concat([Buffer.from(frame.data), Buffer.from(frame.data)]);
  const image = sharp(data, { raw: { width: 40, height: 80, channels: 3, pageHeight: 40 } });
  const out = await watermark(image, ["mark.png", "5", "5", 0], bucket({ "mark.png": MARK_BYTES }).ctx);
  const { data: px, info } = await out.raw().toBuffer({ resolveWithObject: true });
  t.is(info.pageHeight, 40);
  t.deepEqual(px.subarray(0, px.length / 2), px.subarray(px.length / 2));
  t.notDeepEqual(px.subarray(0, px.length / 2), Buffer.from(frame.data));
});
