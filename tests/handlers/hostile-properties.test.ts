/**
 * Properties over the WHOLE viewer path, not one module at a time.
 *
 * tests/url/thumbor-url.test.ts and tests/core/variant-key.test.ts already check the grammar and the key
 * layout on their own. Here arbitrary requests go through `createRequestPlanner(settings).plan`
 * and `createViewerRequestHandler` (path, query, Accept, several settings), and thumbor URLs are
 * built from arbitrary *valid* option sets, so that the checks hold for what the edge really does:
 *   - only RequestError (4xx) escapes; the handler never answers 5xx;
 *   - every key is under the variant prefix, without "..", "//" or NUL, within 1024 bytes;
 *   - a key's own URI gives the same key back (canonical form is stable);
 *   - option sets that change the picture never share a key, and those that do not, do
 *     (checked against an independent description of what the options mean, written here).
 */
import test from "ava";
import fc from "fast-check";
import type { CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import { createViewerRequestHandler } from "../../handlers/viewer-request.js";
import { RequestError } from "../../handlers/core/errors.js";
import type { FitMode } from "../../handlers/core/plan.js";
import { createRequestPlanner, type ViewerRoute } from "../../handlers/url/request-plan.js";
import { DEFAULT_SETTINGS, validateSettings, type Settings } from "../../handlers/core/settings.js";
import { signThumborPath } from "../../handlers/url/signature.js";
import { MAX_KEY_BYTES, parseVariantKey, uriToKey, variantKeyToUri } from "../../handlers/core/variant-key.js";
import { keyToUri } from "../../handlers/core/canonical-uri.js";
import { newRequestId, viewerRequestEvent, type Distribution } from "../../local/events.js";
import { checked } from "../helpers/edge-contract.js";

const distribution: Distribution = { domainName: "d1.cloudfront.net", distributionId: "E1", bucket: "originals", region: "us-east-1" };

/** Settings the properties run under: the defaults, a locked-down production set, a nested prefix. */
const SETTINGS: Record<string, Settings> = {
  defaults: DEFAULT_SETTINGS,
  locked: validateSettings({ sizes: ["300x200", "640x0"], sizeTolerance: 0.1, thumbor: { allowUnsafe: false, securityKey: "k3y" } }),
  nestedPrefix: validateSettings({ variantPrefix: "cache/v1", maxWidth: 2000, maxHeight: 1500, autoAvif: true }),
};

/**
 * The option-set properties are about keys, not the render budget: their outputs stay within
 * 2048x2048, where every generated chain (two blurs or fills on an open size, which the budget
 * counts at the largest output) is admitted. The budget's refusals are tested in render-budget tests.
 */
const OPTION_SIZES = { maxWidth: 2048, maxHeight: 2048 };
const OPTION_SETTINGS = validateSettings(OPTION_SIZES);

/** The invariants every key the edge produces must hold, whatever produced it. */
function checkKey(key: string, settings: Settings): string | null {
  if (!key.startsWith(`${settings.variantPrefix}/`)) return `outside the prefix: ${key}`;
  if (key.includes("//")) return `has //: ${key}`;
  if (key.split("/").some((s) => s === ".." || s === ".")) return `has a dot segment: ${key}`;
  if (key.includes("\0")) return "has NUL";
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) return `over ${MAX_KEY_BYTES} bytes`;
  // It must also be a key origin-response accepts as it is (decodable, canonical).
  try {
    parseVariantKey(key, settings);
  } catch (err) {
    return `origin-response would refuse it: ${String(err)}`;
  }
  return null;
}

function isRefusal(err: unknown): boolean {
  return err instanceof RequestError && err.status >= 400 && err.status < 500;
}

const isResponse = (r: CloudFrontRequest | CloudFrontResultResponse): r is CloudFrontResultResponse => "status" in r;

// ---- arbitrary requests ----

/** Fragments that hostile URLs are made of: traversal, encodings, grammar words, control bytes. */
const fragment = fc.constantFrom(
  "unsafe",
  "variants",
  "cache",
  "v1",
  "meta",
  "trim",
  "trim:bottom-right:99",
  "10x10:0x0",
  "1x1:99999x99999",
  "fit-in",
  "adaptive-full-fit-in",
  "-0x-0",
  "99999x99999",
  "4096x4096",
  "4097x1",
  "origxorig",
  "left",
  "smart",
  "filters:",
  "filters:blur(1000000000000000000000)",
  "filters:fill(red,true):quality(0):format(tiff)",
  "filters:watermark(../a.png,0,0,0)",
  "filters:frame(%2e%2e%2fsecret.png)",
  "..",
  ".",
  "%2e%2e",
  "%2E%2E%2F",
  "%2F",
  "%252F",
  "%00",
  "\u0000",
  "%0A",
  "\n",
  "%C0%AE",
  "%FF",
  "%",
  "%E2%80%AE",
  "\uD800",
  "é",
  "😀",
  "~2C",
  "a.jpg",
  "b.png",
  "x,q80.webp",
  "300x200,q80.webp",
  "0x0,q80.orig",
  "10x10.json",
  "http:",
  "https:",
  "evil.example",
  "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
  "AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D",
  "",
  "a".repeat(300),
);
const hostilePath = fc.array(fragment, { minLength: 0, maxLength: 10 }).map((parts) => "/" + parts.join("/"));
const anyPath = fc.oneof(
  { weight: 3, arbitrary: hostilePath },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 200 }).map((s) => "/" + s) },
);
const anyQuery = fc.oneof(
  fc.constant(""),
  fc.constantFrom("d=300x200", "d=640", "d=0x0", "d=99999x1", "d=310x195", "d=-1x5", "d=1e3", "d=%33x4", "a=1&d=300x200&d=1x1", "d="),
  fc.string({ unit: "grapheme-ascii", maxLength: 40 }).map((s) => `d=${s}`),
  fc.string({ unit: "binary", maxLength: 40 }),
);
const anyAccept = fc.option(
  fc.oneof(fc.constantFrom("image/webp,*/*", "image/avif,image/webp;q=0", "*/*", "image/*", ""), fc.string({ maxLength: 30 })),
  { nil: undefined },
);
const settingsName = fc.constantFrom(...Object.keys(SETTINGS));

test("property: arbitrary requests through the planner only ever refuse with a 4xx, and every key holds the invariants", (t) => {
  let variants = 0;
  fc.assert(
    fc.property(settingsName, anyPath, anyQuery, anyAccept, (name, uri, query, accept) => {
      const settings = SETTINGS[name]!;
      let route: ViewerRoute;
      try {
        route = createRequestPlanner(settings).plan(uri, query, accept);
      } catch (err) {
        if (!isRefusal(err)) throw new Error(`${JSON.stringify(uri)}?${JSON.stringify(query)} threw ${String(err)}`);
        return;
      }
      if (route.kind === "variant") {
        variants++;
        const problem = checkKey(route.key, settings);
        if (problem) throw new Error(`${JSON.stringify(uri)}?${query}: ${problem}`);
      }
    }),
    { numRuns: 4000 },
  );
  // The generator must reach the interesting part, not only refusals.
  t.true(variants > 50, `only ${variants} of 4000 requests made a variant`);
});

test("property: the viewer-request handler never answers 5xx; a rewrite is always the URI of a valid key under the prefix", async (t) => {
  const errors: unknown[] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => void errors.push(args);
  try {
    await fc.assert(
      fc.asyncProperty(settingsName, anyPath, anyQuery, anyAccept, async (name, uri, query, accept) => {
        const settings = SETTINGS[name]!;
        const url = query ? `${uri}?${query}` : uri;
        const rawHeaders = accept === undefined ? [] : ["Accept", accept];
        const event = viewerRequestEvent({ method: "GET", url, rawHeaders, clientIp: "203.0.113.9" }, distribution, newRequestId());
        const sent = { ...event.Records[0]!.cf.request };
        const out = await checked(createViewerRequestHandler(settings))(event);
        if (isResponse(out)) {
          const status = Number(out.status);
          if (status === 301) {
            // Another spelling of an original or ?d= path: sent to the same key's one spelling, on this site.
            const location = out.headers?.location?.[0]?.value ?? "";
            const path = location.split("?", 1)[0]!;
            if (
              !path.startsWith("/") ||
              path.startsWith("//") ||
              uriToKey(path) !== uriToKey(sent.uri) ||
              keyToUri(uriToKey(path)) !== path
            )
              throw new Error(`${JSON.stringify(url)} redirected to ${JSON.stringify(location)}`);
            return;
          }
          if (!(status >= 400 && status < 500)) throw new Error(`${JSON.stringify(url)} answered ${out.status}: ${out.body}`);
          if (out.headers?.["cache-control"]?.[0]?.value !== settings.errorCacheControl)
            throw new Error("refusal without the error cache lifetime");
          return;
        }
        if (!out.uri.startsWith(`/${settings.variantPrefix}/`)) {
          // Passed through as an original: exactly as the viewer sent it.
          if (out.uri !== sent.uri || out.querystring !== sent.querystring) throw new Error(`original ${JSON.stringify(url)} was altered`);
          return;
        }
        if (out.querystring !== "") throw new Error("a rewritten request kept its query string");
        const key = uriToKey(out.uri);
        if (variantKeyToUri(key) !== out.uri) throw new Error(`rewritten URI ${out.uri} is not the canonical URI of its key`);
        const problem = checkKey(key, settings);
        if (problem) throw new Error(`${JSON.stringify(url)}: ${problem}`);
      }),
      { numRuns: 2000 },
    );
  } finally {
    console.error = originalError;
  }
  t.deepEqual(errors, [], "nothing reached the handler's 500 path");
});

// ---- arbitrary valid thumbor option sets ----

interface Options {
  meta: boolean;
  trim: { corner: "top-left" | "bottom-right"; tolerance: number; spelled: 0 | 1 | 2 } | null;
  crop: { left: number; top: number; right: number; bottom: number } | null;
  fit: FitMode;
  flipH: boolean;
  flipV: boolean;
  width: number | "orig";
  height: number | "orig";
  /** Write a 0 side as "0" (true) or leave it empty (false): both mean proportional. */
  zeroSpelled: boolean;
  halign: "left" | "center" | "right" | null;
  valign: "top" | "middle" | "bottom" | null;
  smart: boolean;
  filters: string[];
  format: "jpeg" | "jpg" | "png" | "webp" | "gif" | "avif" | null;
  quality: number | null;
  image: string;
  accept: "webp" | "any";
}

/**
 * Filters as thumbor spells them, each already in canonical argument form and never a call that
 * changes nothing (those leave the key: tests/url/one-key.test.ts); a list names each filter once.
 */
const filterCall = fc.oneof(
  fc.constant("grayscale()"),
  fc.constant("equalize()"),
  fc.constant("strip_icc()"),
  fc
    .integer({ min: -100, max: 100 })
    .filter((n) => n !== 0)
    .map((n) => `brightness(${n})`),
  // Below -49 several percentages share thumbor's integer contrast factor, so one key.
  fc
    .integer({ min: -49, max: 100 })
    .filter((n) => n !== 0)
    .map((n) => `contrast(${n})`),
  fc.integer({ min: 1, max: 150 }).map((n) => `blur(${n})`),
  fc.integer({ min: 1, max: 100 }).map((n) => `noise(${n})`),
  fc
    .tuple(fc.integer({ min: -100, max: 100 }), fc.integer({ min: -100, max: 100 }), fc.integer({ min: -100, max: 100 }))
    .filter(([r, g, b]) => r !== 0 || g !== 0 || b !== 0)
    .map(([r, g, b]) => `rgb(${r},${g},${b})`),
  fc.constantFrom(90, 180, 270).map((n) => `rotate(${n})`),
  fc
    .tuple(fc.constantFrom("red", "blue", "ff0000", "00ff00", "transparent", "auto"), fc.boolean())
    .map(([c, tr]) => (tr ? `fill(${c},true)` : `fill(${c})`)),
);
const imageSegment = fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/).map((s) => `img-${s}`);
const options: fc.Arbitrary<Options> = fc.record({
  meta: fc.boolean(),
  trim: fc.option(
    fc.record({
      corner: fc.constantFrom("top-left" as const, "bottom-right" as const),
      tolerance: fc.integer({ min: 0, max: 442 }),
      spelled: fc.constantFrom(0 as const, 1 as const, 2 as const),
    }),
    { nil: null },
  ),
  crop: fc.option(fc.record({ left: fc.nat(5000), top: fc.nat(5000), right: fc.nat(5000), bottom: fc.nat(5000) }), { nil: null, freq: 3 }),
  fit: fc.constantFrom<FitMode>("crop", "fit-in", "full-fit-in", "adaptive-fit-in", "adaptive-full-fit-in"),
  flipH: fc.boolean(),
  flipV: fc.boolean(),
  width: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 2000 }) }, { weight: 1, arbitrary: fc.constant("orig" as const) }),
  height: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 1500 }) }, { weight: 1, arbitrary: fc.constant("orig" as const) }),
  zeroSpelled: fc.boolean(),
  halign: fc.constantFrom(null, "left" as const, "center" as const, "right" as const),
  valign: fc.constantFrom(null, "top" as const, "middle" as const, "bottom" as const),
  smart: fc.boolean(),
  filters: fc.uniqueArray(filterCall, { maxLength: 3, selector: (call) => call.slice(0, call.indexOf("(")) }),
  format: fc.constantFrom(null, "jpeg" as const, "jpg" as const, "png" as const, "webp" as const, "gif" as const, "avif" as const),
  quality: fc.option(fc.integer({ min: 1, max: 100 }), { nil: null }),
  image: fc.array(imageSegment, { minLength: 1, maxLength: 3 }).map((s) => `${s.join("/")}.jpg`),
  accept: fc.constantFrom("webp" as const, "any" as const),
});

const ACCEPT = { webp: "image/webp,*/*;q=0.8", any: "*/*" } as const;

/** The thumbor URL (unsafe) that asks for `o`. */
function thumborUrl(o: Options): string {
  const parts: string[] = ["unsafe"];
  if (o.meta) parts.push("meta");
  if (o.trim) {
    const { corner, tolerance, spelled } = o.trim;
    // spelled: 0 = shortest thumbor form, 1 = corner named, 2 = corner and tolerance named.
    if (spelled === 2 || tolerance !== 0) parts.push(`trim:${corner}:${tolerance}`);
    else if (spelled === 1 || corner !== "top-left") parts.push(`trim:${corner}`);
    else parts.push("trim");
  }
  if (o.crop) parts.push(`${o.crop.left}x${o.crop.top}:${o.crop.right}x${o.crop.bottom}`);
  if (o.fit !== "crop") parts.push(o.fit);
  const side = (v: number | "orig") => (v === 0 && !o.zeroSpelled ? "" : String(v));
  const sizeDefault = !o.flipH && !o.flipV && o.width === 0 && o.height === 0;
  if (!sizeDefault || o.zeroSpelled) parts.push(`${o.flipH ? "-" : ""}${side(o.width)}x${o.flipV ? "-" : ""}${side(o.height)}`);
  if (o.halign) parts.push(o.halign);
  if (o.valign) parts.push(o.valign);
  if (o.smart) parts.push("smart");
  const filters = [...o.filters];
  if (o.format) filters.push(`format(${o.format})`);
  if (o.quality !== null) filters.push(`quality(${o.quality})`);
  if (filters.length > 0) parts.push(`filters:${filters.join(":")}`);
  parts.push(o.image);
  return "/" + parts.join("/");
}

/**
 * The filters that change pixels, in order: brightness(0) adds 0 to every channel, and a
 * grayscale() of a grey image is that image (Pillow's luma of equal channels is the channel).
 */
function pixelFilters(filters: string[]): string[] {
  return filters.filter((f, i) => f !== "brightness(0)" && !(f === "grayscale()" && filters[i - 1] === "grayscale()"));
}

/**
 * What the options mean for the output, written independently of plan.ts/variant-key.ts:
 * two option sets must share a key exactly when these descriptions are equal.
 */
function meaning(o: Options, settings: Settings): string {
  const cropping = o.fit === "crop";
  const crop = o.crop && (o.crop.left || o.crop.top || o.crop.right || o.crop.bottom) ? o.crop : null;
  const negotiated = o.accept === "webp" && settings.autoWebp ? "webp" : "orig";
  const format = o.meta ? "json" : o.format === "jpg" ? "jpeg" : (o.format ?? negotiated);
  return JSON.stringify({
    image: o.image,
    meta: o.meta,
    trim: o.trim ? [o.trim.corner, o.trim.tolerance] : null,
    crop,
    fit: o.fit,
    size: [o.flipH, o.width, o.flipV, o.height],
    // Alignment places the window of a plain crop only; smart replaces it; fit-in has no window.
    align: cropping && !o.smart ? [o.halign ?? "center", o.valign ?? "middle"] : null,
    smart: cropping && o.smart,
    filters: pixelFilters(o.filters),
    format,
    quality: o.meta ? null : (o.quality ?? settings.defaultQuality),
  });
}

function keyOf(o: Options, settings: Settings = OPTION_SETTINGS): string {
  const route = createRequestPlanner(settings).plan(thumborUrl(o), "", ACCEPT[o.accept]);
  if (route.kind !== "variant") throw new Error(`${thumborUrl(o)} was not a variant`);
  return route.key;
}

test("property: every valid option set gives a variant whose key holds the invariants, and whose own URI gives it back", (t) => {
  const planner = createRequestPlanner(OPTION_SETTINGS);
  fc.assert(
    fc.property(options, (o) => {
      const url = thumborUrl(o);
      const key = keyOf(o);
      const problem = checkKey(key, OPTION_SETTINGS);
      if (problem) throw new Error(`${url}: ${problem}`);
      // Canonical form is stable: the key's own URI (allowUnsafe is on) is the same variant,
      // whatever the Accept of that second request.
      for (const accept of [ACCEPT.webp, ACCEPT.any, undefined]) {
        const again = planner.plan(variantKeyToUri(key), "", accept);
        if (again.kind !== "variant" || again.key !== key)
          throw new Error(`${url}: ${key} requested directly gave ${JSON.stringify(again)}`);
      }
    }),
    { numRuns: 1500 },
  );
  t.pass();
});

test("property: the same options through the handler, and the key's own URI through the handler, land on one URI", async (t) => {
  const handler = checked(createViewerRequestHandler(OPTION_SETTINGS));
  const run = async (url: string, accept: string) => {
    const out = await handler(
      viewerRequestEvent({ method: "GET", url, rawHeaders: ["Accept", accept], clientIp: "203.0.113.9" }, distribution, newRequestId()),
    );
    if (isResponse(out)) throw new Error(`${url} answered ${out.status} ${out.body}`);
    return out.uri;
  };
  await fc.assert(
    fc.asyncProperty(options, async (o) => {
      const uri = await run(thumborUrl(o), ACCEPT[o.accept]);
      if (uri !== variantKeyToUri(keyOf(o))) throw new Error("the handler and the planner disagree");
      if ((await run(uri, ACCEPT.webp)) !== uri) throw new Error(`${uri} requested directly was rewritten elsewhere`);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

/** Values a mutated field may take: small domains, so that equal meanings come up often. */
const FIELD_VALUES: { [K in keyof Options]?: fc.Arbitrary<Options[K]> } = {
  meta: fc.boolean(),
  trim: fc.option(
    fc.record({
      corner: fc.constantFrom("top-left" as const, "bottom-right" as const),
      tolerance: fc.integer({ min: 0, max: 1 }),
      spelled: fc.constantFrom(0 as const, 1 as const, 2 as const),
    }),
    { nil: null },
  ),
  crop: fc.option(fc.record({ left: fc.nat(1), top: fc.nat(1), right: fc.nat(1), bottom: fc.nat(1) }), { nil: null }),
  fit: fc.constantFrom<FitMode>("crop", "fit-in", "full-fit-in", "adaptive-fit-in", "adaptive-full-fit-in"),
  flipH: fc.boolean(),
  flipV: fc.boolean(),
  width: fc.constantFrom(0, 1, 300, "orig" as const),
  height: fc.constantFrom(0, 1, 200, "orig" as const),
  zeroSpelled: fc.boolean(),
  halign: fc.constantFrom(null, "left" as const, "center" as const, "right" as const),
  valign: fc.constantFrom(null, "top" as const, "middle" as const, "bottom" as const),
  smart: fc.boolean(),
  filters: fc.array(fc.constantFrom("grayscale()", "blur(1)", "blur(2)", "brightness(0)", "fill(red)", "fill(red,true)"), { maxLength: 2 }),
  format: fc.constantFrom(null, "jpeg" as const, "jpg" as const, "webp" as const),
  quality: fc.constantFrom(null, 80, 81),
  accept: fc.constantFrom("webp" as const, "any" as const),
};
const FIELDS = Object.keys(FIELD_VALUES) as (keyof Options)[];

/** A second option set equal to the first except for one or two fields. */
const nearPair: fc.Arbitrary<readonly [Options, Options]> = fc
  .tuple(options, fc.array(fc.constantFrom(...FIELDS), { minLength: 1, maxLength: 2 }))
  .chain(([a, fields]) =>
    fc.tuple(...fields.map((f) => FIELD_VALUES[f]! as fc.Arbitrary<unknown>)).map((values) => {
      const b: Record<string, unknown> = { ...a };
      fields.forEach((f, i) => (b[f] = values[i]));
      return [a, b as unknown as Options] as const;
    }),
  );

test("property: two option sets share a key exactly when they mean the same picture", (t) => {
  let same = 0;
  let different = 0;
  fc.assert(
    fc.property(fc.oneof(nearPair, fc.tuple(options, options)), ([a, b]) => {
      const sameMeaning = meaning(a, OPTION_SETTINGS) === meaning(b, OPTION_SETTINGS);
      const sameKey = keyOf(a) === keyOf(b);
      if (sameMeaning) same++;
      else different++;
      if (sameMeaning !== sameKey) {
        throw new Error(
          `${thumborUrl(a)} [${a.accept}] → ${keyOf(a)}\n${thumborUrl(b)} [${b.accept}] → ${keyOf(b)}\nsame meaning: ${sameMeaning}`,
        );
      }
    }),
    { numRuns: 3000 },
  );
  // Both sides of the equivalence were exercised.
  t.true(same > 100, `only ${same} equivalent pairs`);
  t.true(different > 100, `only ${different} distinct pairs`);
});

test("property: ?d= sizes under an allow-list snap to an allowed size or refuse; never a key for another size", (t) => {
  const locked = SETTINGS.locked!;
  const planner = createRequestPlanner(locked);
  const allowed = new Set(["300x200", "640x0"]);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 99999 }), fc.option(fc.integer({ min: 0, max: 99999 }), { nil: undefined }), (w, h) => {
      const d = h === undefined ? `${w}` : `${w}x${h}`;
      try {
        const route = planner.plan("/images/a.jpg", `d=${d}`, ACCEPT.webp);
        if (route.kind !== "variant") throw new Error("not a variant");
        const size = `${route.plan.width}x${route.plan.height}`;
        if (!allowed.has(size)) throw new Error(`d=${d} made ${size}`);
        // And the key it made may be asked for directly even with unsafe URLs off.
        const direct = planner.plan(variantKeyToUri(route.key), "", undefined);
        if (direct.kind !== "variant" || direct.key !== route.key) throw new Error("its key is refused directly");
      } catch (err) {
        if (!isRefusal(err)) throw err;
      }
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test("property: signed URLs of any valid option set give their unsafe twin's key; a changed byte in the signed part is refused", (t) => {
  const key = "pr0perty-k3y";
  const signedSettings = validateSettings({ ...OPTION_SIZES, thumbor: { allowUnsafe: false, securityKey: key } });
  const signed = createRequestPlanner(signedSettings);
  let tampered = 0;
  fc.assert(
    fc.property(options, fc.nat(), fc.constantFrom(..."0123456789abcxyz-_"), (o, at, replacement) => {
      const unsafeUrl = thumborUrl(o);
      const signedPart = unsafeUrl.slice("/unsafe/".length);
      const route = signed.plan(`/${signThumborPath(key, signedPart)}/${signedPart}`, "", ACCEPT[o.accept]);
      if (route.kind !== "variant" || route.key !== keyOf(o)) throw new Error(`${unsafeUrl}: the signed URL gave another key`);
      // One character of the signed part changed, the signature kept: never served.
      const i = at % signedPart.length;
      if (signedPart[i] === replacement) return;
      tampered++;
      const forged = signedPart.slice(0, i) + replacement + signedPart.slice(i + 1);
      try {
        signed.plan(`/${signThumborPath(key, signedPart)}/${forged}`, "", ACCEPT[o.accept]);
      } catch (err) {
        if (err instanceof RequestError && (err.status === 403 || err.status === 400)) return;
        throw err;
      }
      throw new Error(`${forged} was served with the signature of ${signedPart}`);
    }),
    { numRuns: 1000 },
  );
  t.true(tampered > 500);
});

test("property: URLs as long as CloudFront allows (8 KB) of repeated grammar words are answered like any other", (t) => {
  const planner = createRequestPlanner(DEFAULT_SETTINGS);
  const word = fc.constantFrom(
    "unsafe/",
    "trim/",
    "1x1:1x1/",
    "fit-in/",
    "1x1/",
    "left/",
    "smart/",
    "filters:",
    "f(1):",
    "(",
    ")",
    ")/",
    "%",
    "a/",
    ",",
    "~2C",
    "variants/",
  );
  fc.assert(
    fc.property(fc.array(word, { minLength: 200, maxLength: 1500 }), fc.boolean(), (words, unsafe) => {
      const uri = ((unsafe ? "/unsafe/" : "/") + words.join("")).slice(0, 8192);
      try {
        const route = planner.plan(uri, "d=" + "1".repeat(100), "image/webp," + "x,".repeat(500));
        if (route.kind === "variant" && checkKey(route.key, DEFAULT_SETTINGS)) throw new Error(checkKey(route.key, DEFAULT_SETTINGS)!);
      } catch (err) {
        if (!isRefusal(err)) throw err;
      }
    }),
    { numRuns: 200 },
  );
  t.pass();
});
