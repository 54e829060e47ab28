import test from "ava";
import {
  INTERMEDIATE_LONG_SIDE,
  INTERMEDIATE_MIN_BASELINE_PIXELS,
  coveringDctScale,
  intermediateCovers,
  intermediateKey,
  intermediateMetadata,
  intermediatePays,
  intermediateSizeOf,
  missMakesIntermediate,
  planMayUseIntermediate,
  readIntermediateMetadata,
} from "../../handlers/core/intermediate.js";
import { basePlan } from "../../handlers/core/plan.js";
import { DEFAULT_SETTINGS, validateSettings } from "../../handlers/core/settings.js";
import { originalKeyOfVariant, parseVariantKey, variantPrefixOf } from "../../handlers/core/variant-key.js";

const plan = (extra: object = {}) => ({ ...basePlan("images/cat.jpg", 80), width: 300, height: 200, ...extra });

test("its key lies in the original's variant folder, names that original, and is no variant key", (t) => {
  const key = intermediateKey("images/a/cat.jpg", DEFAULT_SETTINGS);
  t.is(key, "variants/images/a/cat.jpg/intermediate.jpg");
  t.true(key.startsWith(variantPrefixOf("images/a/cat.jpg", DEFAULT_SETTINGS)), "swept with the variants by the purge");
  t.is(originalKeyOfVariant(key, DEFAULT_SETTINGS), "images/a/cat.jpg", "the purge's stale pass compares it with this original");
  t.throws(() => parseVariantKey(key, DEFAULT_SETTINGS), { message: /not a variant key/ }, "no URL renders or serves it");
  t.is(intermediateKey("x.jpg", validateSettings({ variantPrefix: "v/2" })), "v/2/x.jpg/intermediate.jpg");
});

test("plans that need the original's own pixels, or the setting off, never use it", (t) => {
  t.true(planMayUseIntermediate(plan(), DEFAULT_SETTINGS));
  t.true(planMayUseIntermediate(plan({ fit: "fit-in", halign: "left" }), DEFAULT_SETTINGS));
  t.false(planMayUseIntermediate(plan(), validateSettings({ intermediate: "off" })));
  t.false(planMayUseIntermediate(plan({ meta: true }), DEFAULT_SETTINGS), "meta");
  t.false(planMayUseIntermediate(plan({ trim: { corner: "top-left", tolerance: 0 } }), DEFAULT_SETTINGS), "trim");
  t.false(planMayUseIntermediate(plan({ crop: { left: 1, top: 1, right: 9, bottom: 9 } }), DEFAULT_SETTINGS), "a manual crop");
  t.false(planMayUseIntermediate(plan({ smart: true }), DEFAULT_SETTINGS), "attention looks at the pixels");
  t.true(planMayUseIntermediate(plan({ smart: true }), validateSettings({ thumbor: { smartCrop: "alignment" } })), "alignment does not");
});

test("it pays for progressive JPEGs and large baseline ones, larger than itself, still and not CMYK", (t) => {
  const jpeg = { format: "jpeg", width: 5640, height: 3172, frames: 1, progressive: true };
  t.true(intermediatePays(jpeg));
  t.false(intermediatePays({ ...jpeg, progressive: false, width: 2560, height: 1600 }), "4 MP baseline: shrink-on-load is cheap");
  t.true(intermediatePays({ ...jpeg, progressive: false }), "18 MP baseline");
  const side = Math.ceil(Math.sqrt(INTERMEDIATE_MIN_BASELINE_PIXELS));
  t.true(intermediatePays({ ...jpeg, progressive: false, width: side, height: side }));
  t.false(intermediatePays({ ...jpeg, progressive: false, width: side - 1, height: side - 1 }));
  t.false(intermediatePays({ ...jpeg, width: INTERMEDIATE_LONG_SIDE, height: 1000 }), "not larger than the intermediate");
  t.false(intermediatePays({ ...jpeg, format: "png" }));
  t.false(intermediatePays({ ...jpeg, frames: 3 }));
  t.false(intermediatePays({ ...jpeg, space: "cmyk" }));
});

test("the decode scale that covers a target: the coarsest of 1/8, 1/4, 1/2 whose rounded-down size is still as large", (t) => {
  const size = { width: 5640, height: 3172 };
  t.is(coveringDctScale(size, { width: 300, height: 200 }), 8);
  t.is(coveringDctScale(size, { width: 705, height: 396 }), 8, "5640/8 = 705, 3172/8 = 396.5");
  t.is(coveringDctScale(size, { width: 706, height: 396 }), 4);
  t.is(coveringDctScale(size, { width: 800, height: 500 }), 4);
  t.is(coveringDctScale(size, { width: 2048, height: 1152 }), 2);
  t.is(coveringDctScale(size, { width: 2821, height: 100 }), 1);
});

test("which miss makes it: a baseline original's first variant that decodes as finely as the intermediate, a progressive one's first not at 1/8", (t) => {
  const baseline = { format: "jpeg", width: 5640, height: 3172, frames: 1, progressive: false };
  // The intermediate of 5640x3172 is 2048x1152, decoded at 1/2.
  t.false(missMakesIntermediate(baseline, { width: 300, height: 200 }), "a thumbnail decoded at 1/8");
  t.false(missMakesIntermediate(baseline, { width: 800, height: 500 }), "decoded at 1/4");
  t.true(missMakesIntermediate(baseline, { width: 1600, height: 900 }), "decoded at 1/2, as the intermediate is");
  const progressive = { ...baseline, progressive: true };
  t.false(missMakesIntermediate(progressive, { width: 300, height: 200 }), "its DC scans serve 1/8");
  t.true(missMakesIntermediate(progressive, { width: 800, height: 500 }), "entropy-decoded whole anyway");
  t.true(missMakesIntermediate(progressive, { width: 1600, height: 900 }));
});

test("its size: the long side INTERMEDIATE_LONG_SIDE, in proportion; it covers only shrinks", (t) => {
  t.deepEqual(intermediateSizeOf({ width: 5640, height: 3172 }), { width: 2048, height: 1152 });
  t.deepEqual(intermediateSizeOf({ width: 2000, height: 3000 }), { width: 1365, height: 2048 });
  const size = { width: 2048, height: 1152 };
  t.true(intermediateCovers({ width: 2048, height: 1152 }, size));
  t.false(intermediateCovers({ width: 2049, height: 1000 }, size));
  t.false(intermediateCovers({ width: 100, height: 1153 }, size));
  t.false(intermediateCovers(null, size), "something is cut before the resize");
});

test("its record round-trips through S3 metadata; anything malformed is no record", (t) => {
  const record = { sourceEtag: "abc123", source: { width: 5640, height: 3172 }, sourceProfile: true };
  const metadata = intermediateMetadata({ ...record, sourceEtag: '"abc123"' });
  t.deepEqual(metadata, { "source-etag": "abc123", "source-size": "5640x3172", "source-profile": "1" });
  t.deepEqual(readIntermediateMetadata(metadata), record);
  t.is(readIntermediateMetadata({}), null);
  t.is(readIntermediateMetadata({ ...metadata, "source-size": "0x10" }), null);
  t.is(readIntermediateMetadata({ ...metadata, "source-size": "10x10x10" }), null);
  t.is(readIntermediateMetadata({ ...metadata, "source-profile": "yes" }), null);
  t.is(readIntermediateMetadata({ ...metadata, "source-etag": "" }), null);
});
