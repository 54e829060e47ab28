import test from "ava";
import fc from "fast-check";
import { RequestError } from "../../handlers/core/errors.js";
import { basePlan, canonicalPlan, FIT_MODES, type TransformPlan } from "../../handlers/core/plan.js";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";
import { createRequestPlanner } from "../../handlers/url/request-plan.js";
import {
  MAX_KEY_BYTES,
  MAX_OPTION_SEGMENT_BYTES,
  parseVariantKey,
  uriToKey,
  variantKey,
  variantKeyToUri,
  variantPrefixOf,
} from "../../handlers/core/variant-key.js";

const settings = DEFAULT_SETTINGS;

function plan(overrides: Partial<TransformPlan>): TransformPlan {
  return { ...basePlan("images/cat.jpg", 80), ...overrides };
}

test("README examples spell the documented keys", (t) => {
  t.is(variantKey(plan({ width: 300, height: 200, format: "webp" }), settings), "variants/images/cat.jpg/300x200,q80.webp");
  t.is(
    variantKey(
      plan({
        width: 300,
        height: 0,
        flipHorizontal: true,
        fit: "fit-in",
        format: "jpeg",
        quality: 75,
        filters: [
          { name: "grayscale", args: [] },
          { name: "fill", args: ["ff0000", true] },
        ],
      }),
      settings,
    ),
    "variants/images/cat.jpg/-300x0,fit-in,grayscale(),fill('ff0000,true),q75.jpg",
  );
  t.is(variantKey(plan({ meta: true, width: 10, height: 10 }), settings), "variants/images/cat.jpg/10x10.json");
  t.is(variantKey(plan({}), settings), "variants/images/cat.jpg/0x0,q80.orig");
});

test("options that cannot change the picture do not change the key", (t) => {
  const fitIn = variantKey(plan({ width: 300, height: 200, fit: "fit-in" }), settings);
  t.is(variantKey(plan({ width: 300, height: 200, fit: "fit-in", halign: "left", valign: "top", smart: true }), settings), fitIn);
  const smart = variantKey(plan({ width: 300, height: 200, smart: true }), settings);
  t.is(variantKey(plan({ width: 300, height: 200, smart: true, halign: "right" }), settings), smart);
  t.is(
    variantKey(plan({ width: 3, height: 2, crop: { left: 0, top: 0, right: 0, bottom: 0 } }), settings),
    variantKey(plan({ width: 3, height: 2 }), settings),
  );
});

test("options that change the picture change the key", (t) => {
  const keys = [
    plan({ width: 300, height: 200 }),
    plan({ width: 200, height: 300 }),
    plan({ width: 300, height: 200, flipVertical: true }),
    plan({ width: 300, height: 200, halign: "left" }),
    plan({ width: 300, height: 200, fit: "full-fit-in" }),
    plan({ width: 300, height: 200, quality: 81 }),
    plan({ width: 300, height: 200, format: "png" }),
    plan({ width: 300, height: 200, trim: { corner: "top-left", tolerance: 0 } }),
    plan({ width: "orig", height: 200 }),
    plan({ width: 300, height: 200, filters: [{ name: "blur", args: [3] }] }),
    plan({ width: 300, height: 200, filters: [{ name: "blur", args: ["3"] }] }),
  ].map((p) => variantKey(p, settings));
  t.is(new Set(keys).size, keys.length);
});

test("parseVariantKey refuses keys that are not canonical", (t) => {
  const bad = [
    "variants/images/cat.jpg/300x200,q80.jpeg",
    "variants/images/cat.jpg/300x200,q080.webp",
    "variants/images/cat.jpg/0300x200,q80.webp",
    "variants/images/cat.jpg/300x200,smart,left,q80.webp",
    "variants/images/cat.jpg/300x200,fit-in,left,q80.webp",
    "variants/images/cat.jpg/300x200,q80,grayscale().webp",
    "variants/images/cat.jpg/300x200.webp",
    "variants/images/cat.jpg/300x200,q80,q80.webp",
    "variants/images/cat.jpg/300x200,blur('a,b),q80.webp",
    "variants/images//cat.jpg/300x200,q80.webp",
    "variants/../cat.jpg/300x200,q80.webp",
    "variants/300x200,q80.webp",
    "images/cat.jpg/300x200,q80.webp",
  ];
  for (const key of bad) {
    const err = t.throws(() => parseVariantKey(key, settings), { instanceOf: RequestError }, key);
    t.is(err?.status, 400, key);
  }
});

test("keys over S3's 1024-byte limit are refused with 414", (t) => {
  const err = t.throws(() => variantKey(plan({ source: `${"abcd/".repeat(200)}x.jpg`, width: 1, height: 1 }), settings), {
    instanceOf: RequestError,
  });
  t.is(err?.status, 414);
});

test("URI encoding round-trips keys with spaces, unicode, commas and parentheses", (t) => {
  const key = variantKey(
    plan({
      source: "fotos/maracujá (1),x.jpg",
      width: 10,
      height: 0,
      filters: [{ name: "watermark", args: ["wm/logo 1.png", 10, -10, 50] }],
    }),
    settings,
  );
  const uri = variantKeyToUri(key);
  t.is(uri, "/variants/fotos/maracuj%C3%A1%20(1),x.jpg/10x0,watermark('wm%7E2Flogo%7E201.png,10,-10,50),q80.orig");
  t.is(uriToKey(uri), key);
  t.deepEqual(parseVariantKey(uriToKey(uri), settings).filters, [{ name: "watermark", args: ["wm/logo 1.png", 10, -10, 50] }]);
});

// Properties over arbitrary plans.
const segment = fc
  .string({ unit: fc.constantFrom(..."abcXYZ019 _-.,()'~%+é漢😀=&"), minLength: 1, maxLength: 12 })
  .filter((s) => s !== "." && s !== "..");
const source = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join("/"));
const dimension = fc.oneof(fc.constant("orig" as const), fc.integer({ min: 0, max: 16383 }));
const filterArg = fc.oneof(
  fc.boolean(),
  fc.integer({ min: -100000, max: 100000 }),
  fc.integer({ min: -1000, max: 1000 }).map((n) => n / 8),
  fc.string({ maxLength: 12 }),
);
const filter = fc.record({
  name: fc.constantFrom("blur", "fill", "grayscale", "watermark", "round_corner", "no_upscale"),
  args: fc.array(filterArg, { maxLength: 4 }),
});
const planArb: fc.Arbitrary<TransformPlan> = fc.record({
  source,
  meta: fc.boolean(),
  trim: fc.option(
    fc.record({ corner: fc.constantFrom("top-left" as const, "bottom-right" as const), tolerance: fc.integer({ min: 0, max: 442 }) }),
    { nil: null },
  ),
  crop: fc.option(fc.record({ left: fc.nat(9999), top: fc.nat(9999), right: fc.nat(9999), bottom: fc.nat(9999) }), { nil: null }),
  fit: fc.constantFrom(...FIT_MODES),
  width: dimension,
  height: dimension,
  flipHorizontal: fc.boolean(),
  flipVertical: fc.boolean(),
  halign: fc.constantFrom("left" as const, "center" as const, "right" as const),
  valign: fc.constantFrom("top" as const, "middle" as const, "bottom" as const),
  smart: fc.boolean(),
  filters: fc.array(filter, { maxLength: 3 }),
  format: fc.constantFrom(null, "jpeg" as const, "png" as const, "webp" as const, "avif" as const, "gif" as const),
  quality: fc.integer({ min: 1, max: 100 }),
});

test("property: every key decodes to the canonical plan it was made from", (t) => {
  fc.assert(
    fc.property(planArb, (p) => {
      const key = variantKey(p, settings);
      t.deepEqual(parseVariantKey(key, settings), canonicalPlan(p));
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test("property: distinct canonical plans never share a key (injective)", (t) => {
  fc.assert(
    fc.property(planArb, planArb, (a, b) => {
      const [ka, kb] = [variantKey(a, settings), variantKey(b, settings)];
      if (ka === kb) t.deepEqual(canonicalPlan(a), canonicalPlan(b));
      else t.notDeepEqual(canonicalPlan(a), canonicalPlan(b));
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test("property: keys stay under the variant prefix of their original, without //, .. or NUL, within 1024 bytes", (t) => {
  fc.assert(
    fc.property(planArb, (p) => {
      const key = variantKey(p, settings);
      t.true(key.startsWith(variantPrefixOf(p.source, settings)));
      t.false(key.includes("//"));
      t.false(key.split("/").includes(".."));
      t.false(key.includes("\0"));
      t.true(Buffer.byteLength(key) <= MAX_KEY_BYTES);
      const options = key.slice(variantPrefixOf(p.source, settings).length);
      if (options.length <= MAX_OPTION_SEGMENT_BYTES) t.false(options.includes("/"), "short options are one segment");
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test("property: parseVariantKey never throws anything but RequestError on arbitrary keys", (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (tail) => {
      try {
        parseVariantKey(`variants/${tail}`, settings);
      } catch (err) {
        t.true(err instanceof RequestError, String(err));
      }
    }),
    { numRuns: 1000 },
  );
  t.pass();
});

test("smartCrop alignment leaves smart out of the key (it changes nothing); a smart key is then refused", (t) => {
  const aligned = { ...settings, thumbor: { ...settings.thumbor, smartCrop: "alignment" as const } };
  const smart = plan({ width: 300, height: 200, smart: true, format: "webp" });
  t.is(variantKey(smart, settings), "variants/images/cat.jpg/300x200,smart,q80.webp", "default: unchanged");
  t.is(variantKey(smart, aligned), variantKey(plan({ width: 300, height: 200, format: "webp" }), aligned));
  t.throws(() => parseVariantKey("variants/images/cat.jpg/300x200,smart,q80.webp", aligned), { message: /canonical/ });
});

test("cmykConversion naive adds cmyk-naive to every image key; keys of one setting are refused under the other", (t) => {
  const naive = { ...settings, cmykConversion: "naive" as const };
  const p = plan({ width: 300, height: 200, format: "jpeg" });
  t.is(variantKey(p, settings), "variants/images/cat.jpg/300x200,q80.jpg");
  t.is(variantKey(p, naive), "variants/images/cat.jpg/300x200,cmyk-naive,q80.jpg");
  t.deepEqual(parseVariantKey("variants/images/cat.jpg/300x200,cmyk-naive,q80.jpg", naive), canonicalPlan(p));
  t.throws(() => parseVariantKey("variants/images/cat.jpg/300x200,cmyk-naive,q80.jpg", settings), { message: /canonical/ });
  t.throws(() => parseVariantKey("variants/images/cat.jpg/300x200,q80.jpg", naive), { message: /canonical/ });
  t.is(variantKey(plan({ meta: true, width: 10, height: 10 }), naive), "variants/images/cat.jpg/10x10.json", "meta has no pixels");
});

// Portable keys: long option strings are cut into marked segments no store refuses.
const longString = fc.string({ unit: fc.constantFrom(..."abc019-.,()'~/é😀 "), minLength: 20, maxLength: 90 });
const longFilter = fc.record({
  name: fc.constantFrom("curve", "watermark", "frame", "fill"),
  args: fc.array(fc.oneof(longString, fc.integer({ min: -9999, max: 9999 }), fc.boolean()), { minLength: 1, maxLength: 4 }),
});
const tildeSource = fc
  .array(
    fc.oneof(
      segment,
      segment.map((s) => `~${s}`),
      fc.constantFrom("300x200,q80.webp", "~q80.jpg"),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((s) => s.join("/"));
const longPlanArb: fc.Arbitrary<TransformPlan> = fc
  .tuple(planArb, tildeSource, fc.array(longFilter, { minLength: 1, maxLength: 4 }))
  .map(([p, src, filters]) => ({ ...p, source: src, filters }));

/** The key's plan, or undefined when it would not fit S3's 1024 bytes (414, tested above). */
function keyOrTooLong(p: TransformPlan): string | undefined {
  try {
    return variantKey(p, settings);
  } catch (err) {
    if (err instanceof RequestError && err.status === 414) return undefined;
    throw err;
  }
}

test("property: long option strings give segments of at most 200 bytes, none empty, and the key still decodes to its plan", (t) => {
  let split = 0;
  fc.assert(
    fc.property(longPlanArb, (p) => {
      const key = keyOrTooLong(p);
      if (key === undefined) return;
      const options = key.slice(variantPrefixOf(p.source, settings).length).split("/");
      if (options.length > 1) split++;
      for (const [i, segment] of options.entries()) {
        t.true(segment.length > 0 && Buffer.byteLength(segment) <= MAX_OPTION_SEGMENT_BYTES, segment);
        t.is(segment.startsWith("~"), i > 0, "continuations, and only they, start with ~");
      }
      t.false(key.split("/").includes(""), "no empty segment");
      t.deepEqual(parseVariantKey(key, settings), canonicalPlan(p));
      t.is(uriToKey(variantKeyToUri(key)), key);
    }),
    { numRuns: 400 },
  );
  t.true(split > 100, `${split} keys were split`);
});

test("property: split keys stay injective, also against originals whose segments look like option segments", (t) => {
  fc.assert(
    fc.property(longPlanArb, fc.oneof(planArb, longPlanArb), (a, b) => {
      const [ka, kb] = [keyOrTooLong(a), keyOrTooLong(b)];
      if (ka === undefined || kb === undefined) return;
      if (ka === kb) t.deepEqual(canonicalPlan(a), canonicalPlan(b));
      else t.notDeepEqual(canonicalPlan(a), canonicalPlan(b));
      // The original named by a's key up to its last option segment is another plan, with another key.
      const segments = ka.slice("variants/".length).split("/");
      const twin = { ...b, source: segments.slice(0, -1).join("/") };
      const kt = keyOrTooLong(twin);
      if (kt !== undefined) t.not(kt, ka);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test("keys whose options fit one segment are unchanged; long options are cut after a comma, else at the limit", (t) => {
  const short = plan({ width: 300, height: 200, format: "webp", filters: [{ name: "watermark", args: ["a".repeat(150), 10, 10, 50] }] });
  const shortKey = variantKey(short, settings);
  t.is(shortKey, `variants/images/cat.jpg/300x200,watermark('${"a".repeat(150)},10,10,50),q80.webp`);
  const curve = plan({ width: 120, height: 80, format: "webp", filters: [{ name: "curve", args: ["x".repeat(250), "[]"] }] });
  const key = variantKey(curve, settings);
  // Cut after the size's comma (the last in reach), then at the limit inside the long argument.
  const inSecond = MAX_OPTION_SEGMENT_BYTES - "~curve('".length;
  t.is(key, `variants/images/cat.jpg/120x80,/~curve('${"x".repeat(inSecond)}/~${"x".repeat(250 - inSecond)},'~5B~5D),q80.webp`);
  t.deepEqual(parseVariantKey(key, settings), canonicalPlan(curve));
  // A key cut anywhere else is not canonical.
  t.throws(() => parseVariantKey(key.replace("/~", ""), settings), { instanceOf: RequestError });
  t.throws(() => parseVariantKey(key.replace("xxxx/~", "xxx/~x"), settings), { instanceOf: RequestError });
});

test("numeric filter arguments have one spelling in keys: digits past float32 and leading zeros mint no new key", (t) => {
  const planner = createRequestPlanner(DEFAULT_SETTINGS);
  const key = (filters: string) => {
    const route = planner.plan(`/unsafe/300x200/filters:${filters}/a.jpg`, "", undefined);
    return route.kind === "variant" ? route.key : route.kind;
  };
  const same = (a: string, b: string) => t.is(key(a), key(b), `${a} / ${b}`);
  same("blur(2,1.000000000000001)", "blur(2,1)");
  same(`sharpen(1.${"0".repeat(900)}1,1,true)`, "sharpen(1,1,true)");
  same("proportion(0.5000000000001)", "proportion(0.5)");
  same("convolution(1;2;1;2;4;2;1;2;01.000000000001,16,true)", "convolution(1;2;1;2;4;2;1;2;1,16,true)");
  same("round_corner(010|0010,0,0,0)", "round_corner(10|10,0,0,0)");
  same("watermark(a.png,0010,00010p,50)", "watermark(a.png,10,10p,50)");
  same("curve([(000,0),(255,255)],[(0,0)],[(0,0)],[(0,0)])", "curve([(0,0),(255,255)],[(0,0)],[(0,0)],[(0,0)])");
  t.not(key("watermark(a.png,-0,0,50)"), key("watermark(a.png,0,0,50)"), "-0 (the far edge) stays itself");
  t.not(key("sharpen(1.5,1,true)"), key("sharpen(1,1,true)"));
});
