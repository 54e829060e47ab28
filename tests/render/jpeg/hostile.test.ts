/**
 * Damaged progressive JPEGs against the marker reader, the DC-only rewrite and the render: random
 * bytes overwritten and files cut short never make the reader or the rewrite throw, never make
 * the rewrite larger than its input, and the render answers a variant or a 4xx, never anything else.
 */
import test from "ava";
import fc from "fast-check";
import { RequestError } from "../../../handlers/core/errors.js";
import { dcOnlyJpeg } from "../../../handlers/render/jpeg/dc-only.js";
import { readJpegLayout } from "../../../handlers/render/jpeg/markers.js";
import { renderVariant } from "../../../handlers/render/pipeline.js";
import { plan, settings } from "../../helpers/images.js";
import { progressiveJpeg } from "../../helpers/jpeg.js";

/** The file with some bytes overwritten, then perhaps cut short. */
const damage = (jpeg: Buffer) =>
  fc
    .record({
      writes: fc.array(fc.tuple(fc.nat({ max: jpeg.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      cut: fc.option(fc.nat({ max: jpeg.length }), { nil: undefined }),
    })
    .map(({ writes, cut }) => {
      const bytes = Buffer.from(jpeg);
      for (const [at, value] of writes) bytes[at] = value;
      return cut === undefined ? bytes : bytes.subarray(0, cut);
    });

test("the reader and the rewrite never throw on damaged files, and the rewrite never grows", async (t) => {
  const jpeg = await progressiveJpeg(240, 160, { chromaSubsampling: "4:4:4" });
  fc.assert(
    fc.property(damage(jpeg), (bytes) => {
      readJpegLayout(bytes);
      const dcOnly = dcOnlyJpeg(bytes);
      return dcOnly === null || dcOnly.length < bytes.length;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test("a damaged progressive original decoded at 1/8 renders or answers a 4xx", async (t) => {
  const jpeg = await progressiveJpeg(240, 160, { chromaSubsampling: "4:4:4" });
  await fc.assert(
    fc.asyncProperty(damage(jpeg), async (bytes) => {
      try {
        const out = await renderVariant({ plan: plan({ width: 24, height: 0, format: "jpeg" }), original: bytes, settings });
        return out.body.length > 0;
      } catch (err) {
        return err instanceof RequestError && err.status >= 400 && err.status < 500;
      }
    }),
    { numRuns: 60 },
  );
  t.pass();
});

test("a frame far larger than its data (60000x60000 over 23 KB): no baseline file is transcoded from zeros past the data, the progressive rewrite stays smaller than the file", async (t) => {
  const jpeg = await progressiveJpeg(240, 160, { chromaSubsampling: "4:4:4" });
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc2]));
  const huge = Buffer.from(jpeg);
  huge.writeUInt16BE(60000, sof + 5);
  huge.writeUInt16BE(60000, sof + 7);
  t.false(readJpegLayout(dcOnlyJpeg(jpeg)!)!.progressive, "the true frame's DC becomes a baseline file");
  const rewritten = dcOnlyJpeg(huge);
  t.truthy(rewritten);
  t.true(readJpegLayout(rewritten!)!.progressive);
  t.true(rewritten!.length < huge.length);
});
