import test from "ava";
import { createHmac } from "node:crypto";
import { RequestError } from "../../handlers/core/errors.js";
import { accepts, createRequestPlanner, type ViewerRoute } from "../../handlers/url/request-plan.js";
import { DEFAULT_SETTINGS, validateSettings, type Settings } from "../../handlers/core/settings.js";

const WEBP = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8";

function settingsWith(overrides: Record<string, unknown>): Settings {
  return validateSettings({ ...JSON.parse(JSON.stringify(DEFAULT_SETTINGS)), ...overrides });
}

function keyOf(route: ViewerRoute): string {
  if (route.kind !== "variant") throw new Error(`expected a variant, got ${route.kind}`);
  return route.key;
}

function refusal(fn: () => unknown): RequestError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RequestError) return err;
    throw err;
  }
  throw new Error("expected a RequestError");
}

/** thumbor's signer, written out here from the spec so the test does not trust our own signer. */
function sign(key: string, path: string): string {
  return createHmac("sha1", Buffer.from(key, "utf8")).update(path).digest("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

const planner = createRequestPlanner(DEFAULT_SETTINGS);

test("?d= and thumbor URLs for the same picture give one key", (t) => {
  const viaD = keyOf(planner.plan("/images/cat.jpg", "d=300x200", WEBP));
  t.is(viaD, "variants/images/cat.jpg/300x200,q80.webp");
  const same = [
    "/unsafe/300x200/images/cat.jpg",
    "/unsafe/300x200/center/middle/images/cat.jpg",
    "/unsafe/300x200/filters:quality(80)/images/cat.jpg",
    "/unsafe/300x200/filters:no_such_filter(1)/images/cat.jpg",
  ];
  for (const uri of same) t.is(keyOf(planner.plan(uri, "", WEBP)), viaD, uri);
  t.is(keyOf(planner.plan("/unsafe/300x200/filters:format(webp)/images/cat.jpg", "", undefined)), viaD);
  t.is(keyOf(planner.plan("/images/cat.jpg", "a=1&d=300x200&b=2", WEBP)), viaD, "other query parameters are ignored");
});

test("signed thumbor URLs are checked with the security key (and retired keys)", (t) => {
  const settings = settingsWith({ thumbor: { allowUnsafe: false, securityKey: "new-key", retiredSecurityKeys: ["old-key"] } });
  const p = createRequestPlanner(settings);
  const path = "300x200/smart/images/cat.jpg";
  t.is(keyOf(p.plan(`/${sign("new-key", path)}/${path}`, "", WEBP)), "variants/images/cat.jpg/300x200,smart,q80.webp");
  t.is(keyOf(p.plan(`/${sign("old-key", path)}/${path}`, "", WEBP)), "variants/images/cat.jpg/300x200,smart,q80.webp");
  t.is(refusal(() => p.plan(`/${sign("wrong", path)}/${path}`, "", WEBP)).status, 403);
  t.is(refusal(() => p.plan(`/${sign("new-key", path)}/300x201/smart/images/cat.jpg`, "", WEBP)).status, 403);
  const unsafe = refusal(() => p.plan(`/unsafe/${path}`, "", WEBP));
  t.is(unsafe.status, 403);
  t.regex(unsafe.reason, /unsafe URLs are disabled/);
});

test("?d= snaps to the allow-list within the tolerance, and refuses other sizes naming the allowed ones", (t) => {
  const p = createRequestPlanner(settingsWith({ sizes: ["300x200", "640x480", "1200x0"], sizeTolerance: 0.1 }));
  t.is(keyOf(p.plan("/a.jpg", "d=310x195", undefined)), "variants/a.jpg/300x200,q80.orig");
  t.is(keyOf(p.plan("/a.jpg", "d=640x480", undefined)), "variants/a.jpg/640x480,q80.orig");
  t.is(keyOf(p.plan("/a.jpg", "d=1150", undefined)), "variants/a.jpg/1200x0,q80.orig");
  const err = refusal(() => p.plan("/a.jpg", "d=500x500", undefined));
  t.is(err.status, 400);
  t.regex(err.reason, /500x500 is not allowed; allowed: 300x200 640x480 1200x0/);
  t.is(refusal(() => p.plan("/a.jpg", "d=abc", undefined)).status, 400);
  t.is(refusal(() => p.plan("/a.jpg", "d=0x0", undefined)).status, 400);
});

test("originals pass through; the bucket root is refused", (t) => {
  t.deepEqual(planner.plan("/images/cat.jpg", "", WEBP), { kind: "original" });
  t.deepEqual(planner.plan("/images/cat.jpg", "v=3", WEBP), { kind: "original" });
  t.is(refusal(() => planner.plan("/", "", WEBP)).status, 404);
});

test("sizes beyond the maximum are refused with 400", (t) => {
  t.regex(refusal(() => planner.plan("/unsafe/5000x10/a.jpg", "", WEBP)).reason, /width 5000 exceeds the maximum 4096/);
  t.is(refusal(() => planner.plan("/a.jpg", "d=10x5000", WEBP)).status, 400);
});

test("a filter thumbor knows but we do not implement is a 400 naming it; unknown ones are ignored unless strict", (t) => {
  const err = refusal(() => planner.plan("/unsafe/10x10/filters:red_eye()/a.jpg", "", WEBP));
  t.is(err.status, 400);
  t.regex(err.reason, /red_eye/);
  const strict = createRequestPlanner(settingsWith({ thumbor: { strictFilters: true } }));
  t.is(refusal(() => strict.plan("/unsafe/10x10/filters:no_such_filter(1)/a.jpg", "", WEBP)).status, 400);
});

test("Accept picks AVIF (when enabled) or WebP, explicit format() wins, */* keeps the original's format", (t) => {
  const avif = createRequestPlanner(settingsWith({ autoAvif: true }));
  t.regex(keyOf(avif.plan("/a.jpg", "d=10x10", WEBP)), /\.avif$/);
  t.regex(keyOf(planner.plan("/a.jpg", "d=10x10", WEBP)), /\.webp$/);
  t.regex(keyOf(planner.plan("/a.jpg", "d=10x10", "*/*")), /\.orig$/);
  t.regex(keyOf(planner.plan("/a.jpg", "d=10x10", "image/webp;q=0, */*")), /\.orig$/);
  t.regex(keyOf(planner.plan("/unsafe/10x10/filters:format(png)/a.jpg", "", WEBP)), /\.png$/);
  t.regex(keyOf(planner.plan("/unsafe/10x10/filters:format(jpg)/a.jpg", "", WEBP)), /\.jpg$/);
});

test("accepts() reads q-values and whole media types only", (t) => {
  t.true(accepts("image/webp", "image/webp"));
  t.true(accepts("text/html, image/WEBP;q=0.5", "image/webp"));
  t.false(accepts("image/webp;q=0", "image/webp"));
  t.false(accepts("image/webpx", "image/webp"));
  t.false(accepts("*/*", "image/webp"));
  t.false(accepts("image/*", "image/webp"));
});

test("a variant key asked for directly is served only when an unsigned request could have made it", (t) => {
  t.is(keyOf(planner.plan("/variants/images/cat.jpg/300x200,q80.webp", "", WEBP)), "variants/images/cat.jpg/300x200,q80.webp");
  t.is(refusal(() => planner.plan("/variants/images/cat.jpg/300x200,q080.webp", "", WEBP)).status, 400);
  t.is(refusal(() => planner.plan("/variants/images/cat.jpg/9000x200,q80.webp", "", WEBP)).status, 400);
  const locked = createRequestPlanner(settingsWith({ sizes: ["300x200"], thumbor: { allowUnsafe: false, securityKey: "k" } }));
  t.is(keyOf(locked.plan("/variants/images/cat.jpg/300x200,q80.webp", "", WEBP)), "variants/images/cat.jpg/300x200,q80.webp");
  t.is(refusal(() => locked.plan("/variants/images/cat.jpg/301x200,q80.webp", "", WEBP)).status, 403);
  t.is(refusal(() => locked.plan("/variants/images/cat.jpg/300x200,smart,q80.webp", "", WEBP)).status, 403);
});

test("percent-encoded and unicode image paths map to decoded bucket keys", (t) => {
  t.is(
    keyOf(planner.plan("/unsafe/10x10/fotos/maracuj%C3%A1%20grande.jpg", "", undefined)),
    "variants/fotos/maracujá grande.jpg/10x10,q80.orig",
  );
  t.is(keyOf(planner.plan("/fotos/maracuj%C3%A1%20grande.jpg", "d=10x10", undefined)), "variants/fotos/maracujá grande.jpg/10x10,q80.orig");
  t.is(refusal(() => planner.plan("/fotos/%E0%A4%A.jpg", "d=10x10", undefined)).status, 400);
  t.is(refusal(() => planner.plan("/unsafe/10x10/a/../b.jpg", "", undefined)).status, 400);
});

test("filter chains are bounded: at most 12 filters and 3 blur/sharpen/convolution", (t) => {
  const ok = "/unsafe/10x10/filters:blur(2):blur(2):sharpen(1,1,true):grayscale()/a.jpg";
  t.is(planner.plan(ok, "", undefined).kind, "variant");
  const costly = refusal(() => planner.plan("/unsafe/10x10/filters:blur(2):blur(2):blur(2):convolution(1;2;1,3)/a.jpg", "", undefined));
  t.is(costly.status, 400);
  t.regex(costly.reason, /4 blur\/sharpen\/convolution filters, the limit is 3/);
  const many = refusal(() => planner.plan(`/unsafe/10x10/filters:${Array(13).fill("grayscale()").join(":")}/a.jpg`, "", undefined));
  t.regex(many.reason, /13 filters, the limit is 12/);
});

test("extract_focal takes the original and a focal point from a nested thumbor URL's manual crop", (t) => {
  const viaFocal = keyOf(planner.plan("/unsafe/300x100/filters:focal(240x220:480x260)/images/cat.jpg", "", undefined));
  t.is(
    keyOf(planner.plan("/unsafe/300x100/filters:extract_focal()/localhost:8888/unsafe/240x220:480x260/images/cat.jpg", "", undefined)),
    viaFocal,
  );
  // Two levels deep, the inner one signed: the first level with a crop decides.
  const nested =
    "/unsafe/300x100/filters:extract_focal()/thumbor.example.com/unsafe/fit-in/500x500/thumbor.example.com/AAAAAAAAAAAAAAAAAAAAAAAAAAA=/240x220:480x260/images/cat.jpg";
  t.is(keyOf(planner.plan(nested, "", undefined)), viaFocal);
  // No manual crop anywhere: thumbor ignores the filter.
  const plain = "/unsafe/300x100/localhost:8888/unsafe/100x100/images/cat.jpg";
  t.is(
    keyOf(planner.plan(plain.replace("300x100/", "300x100/filters:extract_focal()/"), "", undefined)),
    keyOf(planner.plan(plain, "", undefined)),
  );
});

test("gifv() is ignored as by a default thumbor (no gifv optimizer), refused when strict", (t) => {
  t.is(
    keyOf(planner.plan("/unsafe/10x10/filters:gifv(webm)/a.gif", "", undefined)),
    keyOf(planner.plan("/unsafe/10x10/a.gif", "", undefined)),
  );
  const strict = createRequestPlanner(settingsWith({ thumbor: { strictFilters: true } }));
  t.is(refusal(() => strict.plan("/unsafe/10x10/filters:gifv()/a.gif", "", undefined)).status, 400);
});

test("the variant folder itself is a 404, not a pass-through (found by the hostile-properties seed -1705662612)", (t) => {
  for (const settings of [DEFAULT_SETTINGS, settingsWith({ variantPrefix: "cache/v1" })]) {
    const err = refusal(() => createRequestPlanner(settings).plan(`/${settings.variantPrefix}/`, "", WEBP));
    t.is(err.status, 404);
    t.is(err.reason, "no variant key");
  }
  t.is(planner.plan("/variants", "", WEBP).kind, "original", "without the slash it is just a key S3 answers for");
});

const SIGNED_ONLY = settingsWith({ thumbor: { allowUnsafe: false, securityKey: "k123" }, sizes: ["300x200"] });
const signedOnly = createRequestPlanner(SIGNED_ONLY);

test("the route is decided on the decoded key: an encoded variant prefix or unsafe segment is never an original", (t) => {
  for (const uri of [
    "/%76ariants/images/cat.jpg/1000x1000,blur(10),q80.webp",
    "/variants%2Fimages/cat.jpg/999x999,q80.webp",
    "/VARIANTS/../variants/x",
  ]) {
    const err = refusal(() => signedOnly.plan(uri, "", WEBP));
    t.true(err.status === 400, `${uri}: ${err.status} ${err.reason}`);
  }
  t.is(refusal(() => signedOnly.plan("/%75nsafe/999x999/images/cat.jpg", "", WEBP)).status, 403);
  t.is(refusal(() => signedOnly.plan("/variants/images/cat.jpg/1000x1000,blur(10),q80.webp", "", WEBP)).status, 403);
});

test("originals and ?d= paths spelled another way are sent to their one canonical spelling, never elsewhere", (t) => {
  t.deepEqual(planner.plan("/images/my%20cat,1.jpg", "", WEBP), { kind: "original" });
  const respellings: [string, string][] = [
    ["/images/%63at.jpg", "/images/cat.jpg"],
    ["/images/cat%2ejpg", "/images/cat.jpg"],
    ["/images/my+cat.jpg", "/images/my%20cat.jpg"],
    ["/images/caf%c3%a9.jpg", "/images/caf%C3%A9.jpg"],
    ["/images/my%20cat%2C1.jpg", "/images/my%20cat,1.jpg"],
    ["/images/a~b.jpg", "/images/a%7Eb.jpg"],
  ];
  for (const [uri, canonical] of respellings) {
    t.deepEqual(planner.plan(uri, "", WEBP), { kind: "respelled", location: canonical }, uri);
    t.deepEqual(planner.plan(uri, "d=300x200", WEBP), { kind: "respelled", location: `${canonical}?d=300x200` }, `${uri}?d=`);
  }
  // A redirect never reaches what the canonical spelling would refuse, nor another site.
  for (const uri of ["/%2Fevil.example/x.jpg", "/images/%2E%2E/secret.jpg", "/images/%2F/cat.jpg"]) {
    t.is(refusal(() => planner.plan(uri, "", WEBP)).status, 400, uri);
  }
  t.is(refusal(() => planner.plan("/images/%63at.jpg", "d=abc", WEBP)).status, 400, "a bad size is refused, not redirected");
  t.is(keyOf(planner.plan("/images/my%20cat,1.jpg", "d=300x200", WEBP)), "variants/images/my cat,1.jpg/300x200,q80.webp");
});

test("NUL, control bytes and dot segments are a 400 on every route", (t) => {
  for (const uri of [
    "/images/cat%00.jpg",
    "/images/cat\u0000.jpg",
    "/unsafe/300x200/images/cat%00.jpg",
    "/variants/images/cat.jpg%00/300x200,q80.webp",
    "/x%0A/cat.jpg",
    "/unsafe/300x200/filters:format(webp%00)/images/cat.jpg",
    "/unsafe%00/300x200/images/cat.jpg",
  ]) {
    t.regex(refusal(() => planner.plan(uri, "", WEBP)).reason, /control character/, uri);
  }
  for (const uri of ["/x/../images/cat.jpg", "/x/./cat.jpg", "/x/%2e%2e/cat.jpg"]) {
    t.is(refusal(() => planner.plan(uri, "", WEBP)).status, 400, uri);
  }
});

test("a thumbor URL keeps its grammar and is rewritten to the canonical spelling's key", (t) => {
  // thumbor decodes the image once: %2C and , name the same key; a raw + stays a +.
  t.is(keyOf(planner.plan("/unsafe/300x200/images/a%2Cb+c.jpg", "", WEBP)), "variants/images/a,b+c.jpg/300x200,q80.webp");
  t.is(keyOf(planner.plan("/unsafe/300x200/images/a,b+c.jpg", "", WEBP)), "variants/images/a,b+c.jpg/300x200,q80.webp");
  // thumbor keeps a stray "%" literal; the route and the key follow it (the canonical URI escapes it).
  t.is(keyOf(planner.plan("/unsafe/300x200/100%.jpg", "", WEBP)), "variants/100%.jpg/300x200,q80.webp");
  t.is(refusal(() => planner.plan("/100%.jpg", "d=300x200", WEBP)).reason, "malformed percent-encoding in path");
});
