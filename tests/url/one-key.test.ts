/**
 * One key per picture: thumbor URLs whose filters cannot give different output share one
 * variant key (the registry's key rules, core/filter-key-rules.ts, applied by canonicalPlan),
 * and a forged key in a non-canonical spelling is refused.
 */
import test from "ava";
import { RequestError } from "../../handlers/core/errors.js";
import { DEFAULT_SETTINGS, validateSettings } from "../../handlers/core/settings.js";
import { parseVariantKey } from "../../handlers/core/variant-key.js";
import { createRequestPlanner, type ViewerRoute } from "../../handlers/url/request-plan.js";

const planner = createRequestPlanner(DEFAULT_SETTINGS);

function keyOf(filters: string): string {
  const route: ViewerRoute = planner.plan(`/unsafe/30x20/filters:${filters}/images/cat.jpg`, "", undefined);
  if (route.kind !== "variant") throw new Error("expected a variant");
  return route.key;
}

const BARE = "variants/images/cat.jpg/30x20,q80.orig";
const withFilters = (spelled: string) => `variants/images/cat.jpg/30x20,${spelled},q80.orig`;

/** Each row: URL filter lists that must share one key, and that key's filter part ("" = none). */
const SAME_PICTURE: [string[], string][] = [
  [["rotate(0)", "rotate(360)", "rotate(-720)", "rotate(45)", "rotate(91)", "rotate(-1)"], ""],
  [["rotate(90)", "rotate(450)", "rotate(-270)", "rotate(810)"], "rotate(90)"],
  [["rotate(270)", "rotate(-90)", "rotate(-450)"], "rotate(270)"],
  [["rotate(90):rotate(270)", "rotate(180):rotate(180)", "rotate(90):rotate(45):rotate(-90)"], ""],
  [["rotate(90):rotate(90)", "rotate(180)", "rotate(270):rotate(90):rotate(180)"], "rotate(180)"],
  [["brightness(0)", "brightness(-0)"], ""],
  [["brightness(100)", "brightness(101)", "brightness(5000)"], "brightness(100)"],
  [["brightness(-100)", "brightness(-250)"], "brightness(-100)"],
  [["rgb(0,0,0)", "rgb(-0,0,0)"], ""],
  [["rgb(150,-300,7)", "rgb(100,-100,7)"], "rgb(100,-100,7)"],
  [["contrast(0)", "contrast(-200)"], ""],
  [["contrast(-100)", "contrast(-95)", "contrast(-105)", "contrast(-91)"], "contrast(-100)"],
  [["contrast(50)", "contrast(-250)"], "contrast(50)"],
  [["contrast(1032)", "contrast(5000)", "contrast(-1232)"], "contrast(1032)"],
  [["blur(150)", "blur(151)", "blur(1000)", "blur(150,150)", "blur(150,0)"], "blur(150)"],
  [["blur(10)", "blur(10,10)", "blur(10,10.0)", "blur(10,-10)", "blur(10,0)"], "blur(10)"],
  [["blur(10,2.5)", "blur(10,-2.50)"], "blur(10,2.5)"],
  [["noise(0)", "noise(0,42)", "noise(4294967296)", "noise(3000000000)"], ""],
  [["noise(10,42)", "noise(4294967306,42)"], "noise(10,42)"],
  [["noise(10)", "noise(10,1)", "noise(10,0)", "noise(10,4294967296)"], "noise(10)"],
  [["noise(10,42)", "noise(10,4294967338)"], "noise(10,42)"],
  [["saturation(1)", "saturation(1.0)", "saturation(1.00000001)"], ""],
  [["saturation(1.5)", "saturation(1.50000001)"], "saturation(1.5)"],
  [["proportion(1)", "proportion(0)", "proportion(-0.5)", "proportion(2)"], ""],
  [["round_corner(20,255,0,0)", "round_corner(20,511,256,0)"], "round_corner('20,255,0,0)"],
  [["strip_exif()", "strip_exif():strip_exif()", "strip_exif():strip_exif():strip_exif()"], "strip_exif()"],
  [["upscale():upscale()", "upscale()"], "upscale()"],
  [["grayscale():grayscale()", "grayscale()"], "grayscale()"],
  [["max_age(3600)", "max_age(3601)", "max_age(7199)", "max_age(60):max_age(3600)"], "max_age(3600)"],
  [["max_age(31536000)", "max_age(99999999)"], "max_age(31536000)"],
  [["max_bytes(0)"], ""],
  [["background_color(transparent)", "background_color(TRANSPARENT)"], ""],
  [["colorize(0,0,0,ff0000)", "colorize(0,0,0,'FF0000')"], ""],
  // thumbor's PositiveNonZeroNumber does not match "10.0": the call is skipped, as thumbor skips it.
  [["blur(10.0)"], ""],
  [["max_bytes(500):max_bytes(1000)", "max_bytes(1000)"], "max_bytes(1000)"],
];

for (const [spellings, spelled] of SAME_PICTURE) {
  test(`one key for ${spellings.join(" | ")}`, (t) => {
    const want = spelled === "" ? BARE : withFilters(spelled);
    for (const s of spellings) t.is(keyOf(s), want, s);
  });
}

test("calls that do change the picture keep their own keys", (t) => {
  const distinct = [
    "rotate(90)",
    "rotate(180)",
    "brightness(99)",
    "brightness(100)",
    "contrast(-99)",
    "contrast(1031)",
    "blur(149)",
    "blur(10,9)",
    "noise(10,2)",
    "saturation(1.01)",
    "grayscale():brightness(10):grayscale()",
    "grayscale():brightness(10)",
    "rotate(90):brightness(10):rotate(90)",
    "proportion(0.5)",
    "max_age(0)",
    "max_age(10)",
    "max_bytes(1000)",
    "background_color(red)",
    "colorize(0,0,1,ff0000)",
    "colorize(0,0,0,zz0000)",
  ];
  const keys = distinct.map(keyOf);
  t.is(new Set(keys).size, distinct.length);
  t.false(keys.includes(BARE));
  // Not a repeat in a row: a second grayscale after brightness stays.
  t.is(keyOf("grayscale():brightness(10):grayscale()"), withFilters("grayscale(),brightness(10),grayscale()"));
});

test("max_age is rounded down to its ladder: never cached longer than asked", (t) => {
  t.is(keyOf("max_age(59)"), withFilters("max_age(30)"));
  t.is(keyOf("max_age(9)"), withFilters("max_age(0)"));
  t.is(keyOf("max_age(86400)"), withFilters("max_age(86400)"));
});

test("a forged key in a non-canonical spelling is refused, so direct variant requests cannot mint copies", (t) => {
  const settings = validateSettings({ ...JSON.parse(JSON.stringify(DEFAULT_SETTINGS)) });
  for (const forged of ["rotate(450)", "rotate(0)", "brightness(300)", "max_age(3601)", "strip_exif(),strip_exif()", "blur(200)"]) {
    const key = withFilters(forged);
    const err = t.throws(() => parseVariantKey(key, settings), { instanceOf: RequestError }, forged);
    t.is(err?.status, 400, forged);
  }
  // The canonical spellings are accepted.
  for (const ok of ["rotate(90)", "brightness(100)", "max_age(3600)", "strip_exif()", "blur(150)"]) {
    t.notThrows(() => parseVariantKey(withFilters(ok), settings), ok);
  }
});
