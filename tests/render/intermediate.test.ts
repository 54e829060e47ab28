/**
 * Variants made through an intermediate (render/intermediate.ts) against the same variants made
 * from the original, and both against a reference resize of the original's full pixels by
 * Pillow's LANCZOS (render/lanczos.ts, thumbor's filter).
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import type { TransformPlan } from "../../handlers/core/plan.js";
import { encodeIntermediate, makeIntermediate, renderFromIntermediate } from "../../handlers/render/intermediate.js";
import { pillowLanczosResize } from "../../handlers/render/lanczos.js";
import { renderVariant } from "../../handlers/render/pipeline.js";
import type { RawImage } from "../../handlers/render/common/raw.js";
import { plan, settings } from "../helpers/images.js";
import { psnr } from "../helpers/psnr.js";

const photo = readFileSync(join(__dirname, "..", "..", "bench", "photos", "TwoWings.jpg"));
const SOURCE = { width: 2560, height: 1600 };
const record = (sourceProfile = false) => ({ sourceEtag: "e", source: SOURCE, sourceProfile });

async function rawOf(image: Buffer | sharp.Sharp): Promise<RawImage> {
  const s = Buffer.isBuffer(image) ? sharp(image) : image;
  const { data, info } = await s.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as RawImage["channels"], frames: 1 };
}

let intermediate: Promise<Buffer> | undefined;
const theIntermediate = () => (intermediate ??= encodeIntermediate(photo, SOURCE, settings));
let full: Promise<RawImage> | undefined;
const fullPixels = () => (full ??= rawOf(sharp(photo)));

async function both(p: TransformPlan) {
  const direct = await renderVariant({ plan: p, original: photo, settings });
  const through = await renderFromIntermediate({ plan: p, settings }, await theIntermediate(), record());
  return { direct, through };
}

// The whole-image resizes of a page's set: q80 JPEG and WebP, from 2.0x to 8x down.
for (const width of [1280, 800, 320]) {
  for (const format of ["jpeg", "webp"] as const) {
    test.serial(
      `TwoWings → ${width} px ${format} q80: through the intermediate within 1 dB of the direct render, against Pillow's LANCZOS`,
      async (t) => {
        const { direct, through } = await both(plan({ width, height: 0, format, quality: 80 }));
        t.deepEqual([through.width, through.height], [direct.width, direct.height], "the original's geometry");
        const reference = pillowLanczosResize(await fullPixels(), direct.width, direct.height).data;
        const directDb = psnr((await rawOf(direct.body)).data, reference);
        const throughDb = psnr((await rawOf(through.body)).data, reference);
        t.log(
          `direct ${directDb.toFixed(2)} dB, through the intermediate ${throughDb.toFixed(2)} dB (${(throughDb - directDb).toFixed(2)} dB)`,
        );
        t.true(throughDb >= directDb - 1, `${throughDb} dB against ${directDb} dB`);
      },
    );
  }
}

test.serial("thumbor's crop to the box, fit-in, alignment and flips: the direct render's geometry and picture", async (t) => {
  const plans = [
    plan({ width: 300, height: 300, format: "jpeg" }),
    plan({ width: 300, height: 300, halign: "left", valign: "bottom", format: "jpeg" }),
    plan({ width: 500, height: 500, fit: "fit-in", format: "png" }),
    plan({ width: 400, height: 100, flipHorizontal: true, flipVertical: true, format: "webp" }),
    plan({ width: 640, height: 0, filters: [{ name: "focal", args: ["100x100:400x300"] }], format: "jpeg" }),
  ];
  for (const p of plans) {
    const { direct, through } = await both(p);
    t.deepEqual([through.width, through.height, through.format], [direct.width, direct.height, direct.format]);
    const db = psnr((await rawOf(through.body)).data, (await rawOf(direct.body)).data);
    t.log(`${direct.width}x${direct.height} ${direct.format}: ${db.toFixed(1)} dB from the direct render`);
    t.true(db >= 32, `${db} dB`);
  }
});

test.serial("plans it cannot serve are refused: a variant larger than it, a manual crop, trim, meta", async (t) => {
  const i = await theIntermediate();
  for (const p of [
    plan({ width: 2200, height: 0 }),
    plan({ width: 100, height: 100, crop: { left: 0, top: 0, right: 500, bottom: 500 } }),
    plan({ width: 100, height: 0, trim: { corner: "top-left", tolerance: 0 } }),
    plan({ width: 100, height: 0, meta: true }),
  ])
    await t.throwsAsync(renderFromIntermediate({ plan: p, settings }, i, record()), { message: /cannot be made from an intermediate/ });
});

test.serial("made from the oriented, sRGB pixels: an EXIF-rotated original with a profile renders as it does directly", async (t) => {
  const rotated = await sharp(photo).resize(2400).withMetadata({ orientation: 6, icc: "p3" }).jpeg({ progressive: true }).toBuffer();
  const p = plan({ width: 400, height: 0, format: "jpeg" });
  const made = await makeIntermediate(rotated, p, settings);
  t.truthy(made, "a progressive original over 2048 px");
  t.deepEqual(made!.source, { width: 1500, height: 2400 }, "the oriented size");
  t.true(made!.sourceProfile);
  const m = await sharp(made!.body).metadata();
  t.deepEqual([m.width, m.height, m.orientation, m.hasProfile], [1280, 2048, undefined, false]);
  const direct = await renderVariant({ plan: p, original: rotated, settings });
  const through = await renderFromIntermediate({ plan: p, settings }, made!.body, {
    sourceEtag: "e",
    source: made!.source,
    sourceProfile: true,
  });
  t.deepEqual([through.width, through.height], [direct.width, direct.height]);
  t.is(
    (await sharp(through.body).metadata()).hasProfile,
    (await sharp(direct.body).metadata()).hasProfile,
    "tagged sRGB as the direct one",
  );
  t.true(psnr((await rawOf(through.body)).data, (await rawOf(direct.body)).data) >= 32);
  t.is(await makeIntermediate(photo, p, settings), null, "TwoWings (4 MP baseline): it does not pay");
  t.is(await makeIntermediate(rotated, plan({ width: 1800, height: 0 }), settings), null, "this plan could not use it");
});
