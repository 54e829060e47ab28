/**
 * The URL builder (handlers/url/url-builder.ts): byte for byte libthumbor's URLs on every
 * committed libthumbor vector; over thousands of generated option sets, every URL it builds is
 * accepted by the viewer-request planner (signed, strict or not) with the meaning it was asked,
 * under the variant prefix; and what it cannot express is refused with the reason.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import fc from "fast-check";
import type { CropBox, FilterCall, FitMode, HAlign, TrimCorner, VAlign } from "../../handlers/core/plan.js";
import { validateSettings, type Settings } from "../../handlers/core/settings.js";
import { createRequestPlanner } from "../../handlers/url/request-plan.js";
import { verifyThumborSignature } from "../../handlers/url/signature.js";
import { parseThumborPath } from "../../handlers/url/thumbor-url.js";
import { createUrlBuilder, imagePathForKey, UrlBuilderError, type ThumborOptions } from "../../handlers/url/url-builder.js";

interface Vector {
  title: string;
  key: string;
  options: Record<string, unknown>;
  signed: string;
  unsafe: string;
}

const VECTORS: Vector[] = JSON.parse(readFileSync(join(__dirname, "..", "fixtures", "libthumbor-vectors.json"), "utf8")).vectors;
/** The hosts the vectors' absolute image and watermark URLs name: the stack must map them. */
const VECTOR_STACK = { thumbor: { stripHosts: ["images.example.com", "a.com"] } };

/** libthumbor's keyword arguments, renamed to the builder's options (a rename, nothing computed). */
function fromLibthumbor(o: Record<string, unknown>): ThumborOptions {
  const fit = (["fit_in", "full_fit_in", "adaptive_fit_in", "adaptive_full_fit_in"] as const).find((k) => o[k]);
  const crop = o.crop as [[number, number], [number, number]] | undefined;
  const trim = o.trim as true | [TrimCorner, number | null] | undefined;
  return {
    image: o.image_url as string,
    meta: o.meta as boolean | undefined,
    trim: Array.isArray(trim) ? { corner: trim[0], tolerance: trim[1] ?? undefined } : trim,
    crop: crop && { left: crop[0][0], top: crop[0][1], right: crop[1][0], bottom: crop[1][1] },
    fit: fit?.replace(/_/g, "-") as Exclude<FitMode, "crop"> | undefined,
    width: o.width as number | "orig" | undefined,
    height: o.height as number | undefined,
    flipHorizontal: o.flip as boolean | undefined,
    flipVertical: o.flop as boolean | undefined,
    halign: o.halign as HAlign | undefined,
    valign: o.valign as VAlign | undefined,
    smart: o.smart as boolean | undefined,
    filters: o.filters as string[] | undefined,
  };
}

/** libthumbor's CryptoURL turns a str key into bytes as Latin-1 (thumbor's server reads UTF-8). */
const libthumborKeyBytes = (key: string): Uint8Array => Buffer.from(key, "latin1");

test("the committed vectors are the 44 made by libthumbor 1.3.3 with two keys", (t) => {
  t.is(VECTORS.length, 44);
  t.deepEqual([...new Set(VECTORS.map((v) => v.key))].length, 2);
});

for (const [i, v] of VECTORS.entries()) {
  test(`libthumbor vector ${i}: ${v.title} (key ${v.key === "libthumbor-test-key" ? "ASCII" : "non-ASCII"})`, (t) => {
    const options = fromLibthumbor(v.options);
    const signed = createUrlBuilder({ key: libthumborKeyBytes(v.key), stack: VECTOR_STACK });
    const unsafe = createUrlBuilder({ unsafe: true, stack: VECTOR_STACK });
    t.is(signed.thumborPath(options), v.signed);
    t.is(unsafe.thumborPath(options), v.unsafe);
  });
}

test("a string key is UTF-8, as thumbor's server and our edge read it: equal to libthumbor for an ASCII key, verified by the edge for any key", (t) => {
  for (const v of VECTORS) {
    const built = createUrlBuilder({ key: v.key, stack: VECTOR_STACK }).thumborPath(fromLibthumbor(v.options));
    const [, signature, ...rest] = built.split("/");
    t.true(verifyThumborSignature(signature!, rest.join("/"), [v.key]), v.title);
    if (/^[\x00-\x7f]*$/.test(v.key)) t.is(built, v.signed);
    else t.not(built, v.signed, "libthumbor signs a non-ASCII str key as Latin-1, which thumbor's server would refuse");
  }
});

test("thumborUrl joins the base URL with one slash, signed or unsafe", (t) => {
  const options = { image: "images/cat.jpg", width: 300, height: 200 };
  t.is(
    createUrlBuilder({ unsafe: true, baseUrl: "https://img.example.com/" }).thumborUrl(options),
    "https://img.example.com/unsafe/300x200/images/cat.jpg",
  );
  t.regex(
    createUrlBuilder({ key: "k", baseUrl: "https://img.example.com" }).thumborUrl(options),
    /^https:\/\/img\.example\.com\/[A-Za-z0-9_-]{27}=\/300x200\/images\/cat\.jpg$/,
  );
  t.is(createUrlBuilder({ unsafe: true }).thumborUrl(options), "/unsafe/300x200/images/cat.jpg");
});

test("where libthumbor writes a URL that means something else, the builder writes what was asked", (t) => {
  const b = createUrlBuilder({ unsafe: true });
  // libthumbor drops the flip when only the height is set ("0x80") and writes "trim::5".
  t.is(b.thumborPath({ image: "a.jpg", flipHorizontal: true, height: 80 }), "unsafe/-0x80/a.jpg");
  t.is(b.thumborPath({ image: "a.jpg", trim: { tolerance: 5 } }), "unsafe/trim:top-left:5/a.jpg");
  t.is(b.thumborPath({ image: "a.jpg", width: "orig", flipHorizontal: true }), "unsafe/-origx0/a.jpg");
  t.is(
    b.thumborPath({ image: "a.jpg", filters: [{ name: "watermark", args: ["logos/my logo (1).png", "10", "-0", 50] }] }),
    "unsafe/filters:watermark('logos%2Fmy%20logo%20(1).png',10,-0,50)/a.jpg",
  );
  t.is(
    b.thumborPath({ image: imagePathForKey("dossier/été & co+(1).jpg?v=2") }),
    "unsafe/dossier/%C3%A9t%C3%A9%20%26%20co%2B%281%29.jpg%3Fv%3D2",
  );
});

const REFUSALS: [string, () => string, RegExp][] = [
  [
    "an image that starts like an option",
    () => unsafeBuilder().thumborPath({ image: "left/a.jpg" }),
    /read with image "a\.jpg".*"%6Ceft\/a\.jpg"/,
  ],
  ["a raw space", () => unsafeBuilder().thumborPath({ image: "my pic.jpg" }), /contains " ".*%20/],
  ["a lone %", () => unsafeBuilder().thumborPath({ image: "100%.jpg" }), /"%" that does not start a %XX escape/],
  ["a dot segment", () => unsafeBuilder().thumborPath({ image: "a/../b.jpg" }), /"\." or "\.\." segment/],
  [
    "a size over the stack's maximum",
    () => createUrlBuilder({ unsafe: true, stack: { maxWidth: 1000 } }).thumborPath({ image: "a.jpg", width: 1001 }),
    /400: width 1001 exceeds the maximum 1000/,
  ],
  ["a negative width", () => unsafeBuilder().thumborPath({ image: "a.jpg", width: -10 }), /width must be a whole number.*flipHorizontal/],
  ["fit-in without a size", () => unsafeBuilder().thumborPath({ image: "a.jpg", fit: "fit-in" }), /fit-in needs a width and\/or a height/],
  ["an unknown filter", () => unsafeBuilder().thumborPath({ image: "a.jpg", filters: ["sepia()"] }), /filter "sepia\(\)": unknown filter/],
  [
    "bad filter arguments",
    () => unsafeBuilder().thumborPath({ image: "a.jpg", filters: ["blur(x)"] }),
    /invalid arguments for filter blur\(x\)/,
  ],
  [
    "a filter thumbor has and we do not",
    () => unsafeBuilder().thumborPath({ image: "a.jpg", filters: ["red_eye()"] }),
    /red_eye\(\) is not supported/,
  ],
  ["gifv", () => unsafeBuilder().thumborPath({ image: "a.jpg", filters: ["gifv()"] }), /gifv\(\): edge-resizer makes no video/],
  [
    "two filters in one string",
    () => unsafeBuilder().thumborPath({ image: "a.jpg", filters: ["quality(5):grayscale()"] }),
    /read as 2 filters/,
  ],
  [
    "four costly filters",
    () => unsafeBuilder().thumborPath({ image: "a.jpg", filters: ["blur(1)", "blur(2)", "blur(3)", "sharpen(1,1,true)"] }),
    /4 blur\/sharpen\/convolution filters, the limit is 3/,
  ],
  [
    "an absolute URL of an unlisted host",
    () => unsafeBuilder().thumborPath({ image: "http%3A//evil.example/a.jpg" }),
    /evil\.example is not in thumbor\.stripHosts/,
  ],
  [
    "a watermark from an unlisted host",
    () => unsafeBuilder().thumborPath({ image: "a.jpg", filters: ["watermark(https%3A%2F%2Fevil.example%2Fw.png,0,0,0)"] }),
    /watermark: absolute image URLs/,
  ],
  [
    "a variant key over 1024 bytes",
    () => unsafeBuilder().thumborPath({ image: `${"d/".repeat(445)}a.jpg`, filters: ["frame(" + "x".repeat(150) + ".png)"] }),
    /414: variant key would be/,
  ],
  [
    "a ?d= size off the allow-list",
    () => createUrlBuilder({ unsafe: true, stack: { sizes: ["300x200"] } }).dimensionsUrl("a.jpg", 301, 200),
    /size 301x200 is not allowed; allowed: 300x200/,
  ],
  ["a ?d= path the router reads as thumbor", () => unsafeBuilder().dimensionsUrl("unsafe/a.jpg", 10), /first segment is reserved/],
  ["a ?d= path under the variant prefix", () => unsafeBuilder().dimensionsUrl("variants/a.jpg", 10), /first segment is reserved/],
  ["a ?d= of no size", () => unsafeBuilder().dimensionsUrl("a.jpg", 0, 0), /d=0x0 asks for no size/],
  [
    "a key and unsafe at once",
    () => createUrlBuilder({ key: "k", unsafe: true }).thumborPath({ image: "a.jpg" }),
    /either a key .* or unsafe/,
  ],
  ["no key for signed URLs", () => createUrlBuilder({}).thumborPath({ image: "a.jpg" }), /need the stack's securityKey/],
];

function unsafeBuilder() {
  return createUrlBuilder({ unsafe: true });
}

for (const [title, build, message] of REFUSALS) {
  test(`refused with the reason: ${title}`, (t) => {
    const err = t.throws(build, { instanceOf: UrlBuilderError });
    t.regex(err!.message, message);
  });
}

// ---- Properties -----------------------------------------------------------------------------

const KEY = "prop-test-key";
/** The stacks the properties run under: defaults with signing, strict filters, and a tight nested one. */
const STACKS: Record<string, Settings> = {
  signed: validateSettings({ thumbor: { allowUnsafe: false, securityKey: KEY } }),
  strict: validateSettings({ thumbor: { allowUnsafe: false, securityKey: KEY, strictFilters: true } }),
  tight: validateSettings({
    variantPrefix: "cache/v1",
    maxWidth: 800,
    maxHeight: 600,
    sizes: ["320x0", "640x480"],
    thumbor: { allowUnsafe: false, securityKey: KEY, pathPrefix: "st", stripHosts: ["img.example.com"] },
  }),
};

/** Segments chosen to collide with the grammar (options, filters, dots, escapes) as well as plain names. */
const SEGMENT = fc.oneof(
  fc.constantFrom(
    "a.jpg",
    "images",
    "cat.png",
    "left",
    "smart",
    "meta",
    "trim",
    "10x20",
    "fit-in",
    "filters:quality(5)",
    "unsafe",
    "..",
    ".",
    "%2e",
    "x%20y.jpg",
    "%C3%A9t%C3%A9.jpg",
    "%FF.jpg",
    "a%2Fb",
    "100%",
    "my pic.jpg",
    "q?x",
    "a#b",
    "-0x-0",
    "1x2:3x4",
    "http%3A",
    "img.example.com",
    "",
  ),
  fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@|-]{1,12}$/),
);
const IMAGE = fc.array(SEGMENT, { minLength: 1, maxLength: 4 }).map((s) => s.join("/"));
const SIDE = fc.oneof(fc.integer({ min: 0, max: 1200 }), fc.constant<"orig">("orig"));
const FILTER = fc.oneof(
  fc.constantFrom(
    "quality(70)",
    "format(webp)",
    "format(bmp)",
    "grayscale()",
    "blur(3)",
    "sharpen(1,0.5,true)",
    "brightness(-20)",
    "fill(ff00aa,true)",
    "round_corner(20|10,255,255,255)",
    "rotate(90)",
    "no_upscale()",
    "strip_exif()",
    "red_eye()",
    "gifv()",
    "sepia()",
    "watermark(logo.png,10,-10,50)",
    "watermark(https%3A%2F%2Fimg.example.com%2Fw.png,center,center,0)",
    "frame(f.png)",
    "quality(x)",
    "focal(1x2:3x4)",
    "extract_focal()",
    "proportion(0.5)",
    "curve([(0,0),(255,255)],[],[],[])",
    "max_bytes(1000)",
  ),
  fc
    .record({ name: fc.constantFrom("quality", "brightness", "contrast", "rotate"), args: fc.tuple(fc.integer({ min: -100, max: 100 })) })
    .map((c): FilterCall => ({ name: c.name, args: [...c.args] })),
  fc
    .record({
      name: fc.constant("watermark"),
      args: fc.tuple(
        fc.stringMatching(/^[a-z ()/,%é]{1,10}\.png$/),
        fc.constantFrom("0", "-0", "10p", "center"),
        fc.constantFrom("0", "repeat"),
        fc.integer({ min: 0, max: 100 }),
      ),
    })
    .map((c): FilterCall => ({ name: c.name, args: [...c.args] })),
);
const CROP: fc.Arbitrary<CropBox> = fc.record({ left: fc.nat(500), top: fc.nat(500), right: fc.nat(1500), bottom: fc.nat(1500) });

const OPTIONS: fc.Arbitrary<ThumborOptions> = fc.record(
  {
    image: IMAGE,
    debug: fc.boolean(),
    meta: fc.boolean(),
    trim: fc.oneof(
      fc.boolean(),
      fc.record({ corner: fc.constantFrom<TrimCorner>("top-left", "bottom-right"), tolerance: fc.nat(442) }, { requiredKeys: [] }),
    ),
    crop: CROP,
    fit: fc.constantFrom<Exclude<FitMode, "crop">>("fit-in", "full-fit-in", "adaptive-fit-in", "adaptive-full-fit-in"),
    width: SIDE,
    height: SIDE,
    flipHorizontal: fc.boolean(),
    flipVertical: fc.boolean(),
    halign: fc.constantFrom<HAlign>("left", "center", "right"),
    valign: fc.constantFrom<VAlign>("top", "middle", "bottom"),
    smart: fc.boolean(),
    filters: fc.array(FILTER, { maxLength: 5 }),
  },
  { requiredKeys: ["image"] },
);

/** What the URL must mean, written from the options alone (not from the builder's code). */
function meaning(o: ThumborOptions) {
  const crop = o.crop && (o.crop.left || o.crop.top || o.crop.right || o.crop.bottom) ? o.crop : null;
  return {
    meta: !!o.meta,
    crop: crop && { ...crop },
    width: o.width ?? 0,
    height: o.height ?? 0,
    flipHorizontal: !!o.flipHorizontal,
    flipVertical: !!o.flipVertical,
    smart: !!o.smart,
    fitIn: o.fit !== undefined,
    full: o.fit === "full-fit-in" || o.fit === "adaptive-full-fit-in",
    adaptive: o.fit?.startsWith("adaptive") ?? false,
    halign: o.halign ?? "center",
    valign: o.valign ?? "middle",
    trim:
      o.trim === undefined || o.trim === false
        ? null
        : o.trim === true
          ? { corner: "top-left", tolerance: 0 }
          : { corner: o.trim.corner ?? "top-left", tolerance: o.trim.tolerance ?? 0 },
    image: decodeURIComponentLoose(o.image),
  };
}

function decodeURIComponentLoose(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

for (const [name, settings] of Object.entries(STACKS)) {
  test(`property (${name} stack): a signed URL the builder accepts is accepted by the edge, means its options and maps under the prefix`, (t) => {
    const builder = createUrlBuilder({ key: KEY, stack: settings });
    const planner = createRequestPlanner(settings);
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(OPTIONS, (options) => {
        let url: string;
        try {
          url = builder.thumborPath(options);
        } catch (err) {
          if (!(err instanceof UrlBuilderError) || err.message.length < 10) throw err;
          refused++;
          return;
        }
        accepted++;
        const route = planner.plan(url, "", "image/webp");
        if (route.kind !== "variant" || !route.key.startsWith(`${settings.variantPrefix}/`))
          throw new Error(`not a variant under the prefix: ${url}`);
        const read = parseThumborPath(url);
        const { image, ...rest } = meaning(options);
        const got = {
          meta: read.meta,
          crop: read.crop,
          width: read.width,
          height: read.height,
          flipHorizontal: read.flipHorizontal,
          flipVertical: read.flipVertical,
          smart: read.smart,
          fitIn: read.fitIn,
          full: read.full,
          adaptive: read.adaptive,
          halign: read.halign ?? "center",
          valign: read.valign ?? "middle",
          trim: read.trim,
        };
        if (JSON.stringify(got) !== JSON.stringify(rest) || read.image !== image) {
          throw new Error(`${url} reads as ${JSON.stringify({ ...got, image: read.image })}`);
        }
      }),
      { numRuns: 3000, seed: 16 },
    );
    // The generator must exercise both sides: many accepted URLs and many refusals.
    t.true(accepted > 300, `accepted ${accepted}`);
    t.true(refused > 300, `refused ${refused}`);
  });
}

test("property: a ?d= URL the builder accepts maps to the original's variant at that size, under the prefix", (t) => {
  for (const settings of Object.values(STACKS)) {
    const builder = createUrlBuilder({ key: KEY, stack: settings });
    const planner = createRequestPlanner(settings);
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.array(SEGMENT, { minLength: 1, maxLength: 3 }).map((s) => decodeURIComponentLoose(s.join("/"))),
        fc.oneof(fc.constantFrom(320, 640), fc.nat(1000)),
        fc.oneof(fc.constantFrom(0, 480), fc.nat(700)),
        (key, width, height) => {
          let url: string;
          try {
            url = builder.dimensionsUrl(key, width, height);
          } catch (err) {
            if (!(err instanceof UrlBuilderError)) throw err;
            return;
          }
          accepted++;
          const [path, query] = url.split("?");
          const route = planner.plan(path!, query!, undefined);
          if (route.kind !== "variant" || route.plan.source !== key || route.plan.width !== width || route.plan.height !== height) {
            throw new Error(`${url} does not map to ${key} at ${width}x${height}`);
          }
          if (!route.key.startsWith(`${settings.variantPrefix}/${key}/`)) throw new Error(`outside the prefix: ${route.key}`);
        },
      ),
      { numRuns: 1500, seed: 16 },
    );
    t.true(accepted > (settings.sizes.length > 0 ? 20 : 300), `accepted ${accepted}`);
  }
});

test("the tight stack's allow-list: the builder makes exactly its sizes", (t) => {
  const builder = createUrlBuilder({ key: KEY, stack: STACKS.tight });
  t.is(builder.dimensionsUrl("a b.jpg", 640, 480), "/a%20b.jpg?d=640x480");
  t.is(builder.dimensionsUrl("a.jpg", 320), "/a.jpg?d=320x0");
});
