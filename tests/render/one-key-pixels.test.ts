/**
 * One key per picture, checked on pixels: a plan as the URL spelled it and its canonical form
 * (the key's spelling, core/filter-key-rules.ts) render the same pixels, for random filter lists
 * mixing no-op calls, out-of-range arguments, wrapped seeds and repeats. Small image, few runs.
 */
import test from "ava";
import fc from "fast-check";
import sharp from "sharp";
import { canonicalPlan, type FilterCall } from "../../handlers/core/plan.js";
import { renderVariant } from "../../handlers/render/pipeline.js";
import { plan, settings } from "../helpers/images.js";

const WIDTH = 16;
const HEIGHT = 12;

/** A small RGBA image with every channel varying (alpha too), so clamps, offsets and premultiplication show. */
async function smallImage(): Promise<Buffer> {
  const data = Buffer.alloc(WIDTH * HEIGHT * 4);
  for (let i = 0; i < WIDTH * HEIGHT; i++) {
    data[i * 4] = (i * 37) % 256;
    data[i * 4 + 1] = (i * 11 + 60) % 256;
    data[i * 4 + 2] = 255 - ((i * 23) % 256);
    data[i * 4 + 3] = i % 3 === 0 ? 255 : (i * 53) % 256;
  }
  return sharp(data, { raw: { width: WIDTH, height: HEIGHT, channels: 4 } })
    .png()
    .toBuffer();
}

const call = (name: string, ...args: (number | string)[]): FilterCall => ({ name, args });

const filterCall: fc.Arbitrary<FilterCall> = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map((n) => call("rotate", n)),
  fc.integer({ min: -12, max: 12 }).map((n) => call("rotate", n * 90)),
  fc.integer({ min: -12, max: 12 }).map((n) => call("rotate", n * 90)),
  fc.integer({ min: -400, max: 400 }).map((n) => call("brightness", n)),
  fc.integer({ min: -1500, max: 1500 }).map((n) => call("contrast", n)),
  fc
    .tuple(fc.integer({ min: -300, max: 300 }), fc.integer({ min: -300, max: 300 }), fc.integer({ min: -300, max: 300 }))
    .map(([r, g, b]) => call("rgb", r, g, b)),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom(0, -2, 2, 3)).map(([r, s]) => call("blur", r, s === 3 ? r : s)),
  fc
    .tuple(fc.integer({ min: 0, max: 30 }), fc.constantFrom(0, 2 ** 32, 3e9), fc.constantFrom(0, 1, 5, 2 ** 32 + 5, 2 ** 32))
    .map(([a, wrap, s]) => call("noise", a + wrap, s)),
  fc.constantFrom(1, 1.0000000001, 0.5, 0.50000001, 2).map((f) => call("saturation", f)),
  fc.constantFrom(0, -1, 1, 2, 0.5).map((p) => call("proportion", p)),
  fc.constantFrom(call("background_color", "transparent"), call("colorize", 0, 0, 0, "00ff00"), call("colorize", 0, 20, 0, "00ff00")),
  fc.constantFrom(call("grayscale"), call("strip_exif"), call("strip_icc"), call("max_age", 3601), call("max_age", 7)),
);

test("property: a plan and its canonical form (its key) render the same pixels", async (t) => {
  const original = await smallImage();
  await fc.assert(
    fc.asyncProperty(fc.array(filterCall, { minLength: 1, maxLength: 4 }), async (filters) => {
      const asAsked = plan({ format: "png", filters });
      const keyed = canonicalPlan(asAsked);
      const [a, b] = await Promise.all([asAsked, keyed].map((p) => renderVariant({ plan: p, original, settings })));
      const [pa, pb] = await Promise.all([a!, b!].map((r) => sharp(r.body).raw().toBuffer({ resolveWithObject: true })));
      t.deepEqual(pa!.info, pb!.info);
      return pa!.data.equals(pb!.data);
    }),
    { numRuns: 40, seed: 20261207 },
  );
  t.pass();
});

test("the property's sample really merges spellings: canonical forms differ from the plans for most samples", (t) => {
  const samples = fc.sample(fc.array(filterCall, { minLength: 1, maxLength: 3 }), { numRuns: 40, seed: 20261207 });
  const changed = samples.filter((filters) => JSON.stringify(canonicalPlan(plan({ filters })).filters) !== JSON.stringify(filters));
  t.true(changed.length > 20, `${changed.length} of 40`);
});
