import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEFAULT_SETTINGS,
  SETTINGS_SCHEMA,
  SettingsError,
  loadSettingsFile,
  settingsFor,
  validateSettings,
} from "../../handlers/core/settings.js";
import { SETTING_READERS } from "../../handlers/core/settings-schema.js";
import { TRIGGER_LIMITS } from "../../handlers/cloudfront/edge-rules.js";

test("an empty document takes every default, and the defaults are valid", (t) => {
  t.deepEqual(validateSettings({}), DEFAULT_SETTINGS);
  t.deepEqual(validateSettings(JSON.parse(JSON.stringify(DEFAULT_SETTINGS))), DEFAULT_SETTINGS);
});

test("present keys override defaults, nested thumbor keys one by one", (t) => {
  const s = validateSettings({ sizes: ["300x200", "640x0"], autoAvif: true, thumbor: { allowUnsafe: false, securityKey: "k" } });
  t.deepEqual(s.sizes, ["300x200", "640x0"]);
  t.true(s.autoAvif);
  t.false(s.thumbor.allowUnsafe);
  t.is(s.thumbor.securityKey, "k");
  t.deepEqual(s.thumbor.stripHosts, []);
});

test("smartCrop and cmykConversion: defaults keep today's behaviour, thumbor's are accepted", (t) => {
  const d = validateSettings({});
  t.is(d.thumbor.smartCrop, "attention");
  t.is(d.cmykConversion, "colour-managed");
  const s = validateSettings({ cmykConversion: "naive", thumbor: { smartCrop: "alignment" } });
  t.is(s.thumbor.smartCrop, "alignment");
  t.is(s.cmykConversion, "naive");
  t.true(d.thumbor.progressiveJpeg, "thumbor's PROGRESSIVE_JPEG default");
  t.false(validateSettings({ thumbor: { progressiveJpeg: false } }).thumbor.progressiveJpeg);
});

test("intermediate: auto by default, off accepted", (t) => {
  t.is(validateSettings({}).intermediate, "auto");
  t.is(validateSettings({ intermediate: "off" }).intermediate, "off");
});

const invalid: Array<[string, unknown, RegExp]> = [
  ["an unknown intermediate mode", { intermediate: "on" }, /intermediate must be one of "auto", "off", got "on"/],
  ["a size of 0x0", { sizes: ["0x0"] }, /sizes\[0\] must be "WxH".*got "0x0"/],
  ["a size over the maximum", { maxWidth: 100, sizes: ["300x200"] }, /sizes\[0\]/],
  ["a size that is not WxH", { sizes: ["big"] }, /sizes\[0\]/],
  ["an unknown key", { maxwidth: 10 }, /unknown key "maxwidth"/],
  ["an unknown thumbor key", { thumbor: { allow_unsafe: true } }, /unknown key "thumbor.allow_unsafe"/],
  ["quality out of range", { defaultQuality: 0 }, /defaultQuality must be an integer from 1 to 100, got 0/],
  ["a prefix with ..", { variantPrefix: "a/../b" }, /variantPrefix/],
  ["a prefix with a leading slash", { variantPrefix: "/variants" }, /variantPrefix/],
  ["a string where a boolean goes", { autoWebp: "yes" }, /autoWebp must be true or false/],
  ["unsafe off without a key", { thumbor: { allowUnsafe: false } }, /securityKey is empty/],
  ["a tolerance of 1", { sizeTolerance: 1 }, /sizeTolerance/],
  ["an array document", [], /must be a JSON object/],
  [
    "an unknown smart crop mode",
    { thumbor: { smartCrop: "faces" } },
    /thumbor.smartCrop must be one of "attention", "alignment", got "faces"/,
  ],
  ["an unknown CMYK conversion", { cmykConversion: true }, /cmykConversion must be one of "colour-managed", "naive", got true/],
  ["a string for progressiveJpeg", { thumbor: { progressiveJpeg: "no" } }, /thumbor.progressiveJpeg must be true or false, got "no"/],
  [
    "a document type among the originals' types",
    { originalContentTypes: ["text/html"] },
    /originalContentTypes\[0\] must be a lower-case image/,
  ],
  ["an upper-case original type", { originalContentTypes: ["image/JPEG"] }, /originalContentTypes\[0\]/],
  ["an originals prefix with a leading slash", { originalsPrefix: "/images" }, /originalsPrefix must be "" or path segments/],
  [
    "an originals prefix inside the variants",
    { originalsPrefix: "variants/images" },
    /originalsPrefix must be a prefix outside variantPrefix/,
  ],
  ["a healthcheck path without its leading slash", { healthcheckPath: "healthcheck" }, /healthcheckPath must be "" \(off\) or a path/],
  ["a healthcheck path of the root", { healthcheckPath: "/" }, /healthcheckPath must be/],
  ["a healthcheck path inside the variants", { healthcheckPath: "/variants/health" }, /healthcheckPath must be .* outside \/variants\//],
];
for (const [what, doc, message] of invalid) {
  test(`refuses ${what} with a precise message`, (t) => {
    t.throws(() => validateSettings(doc), { instanceOf: SettingsError, message });
  });
}

test("healthcheckPath: thumbor's /healthcheck by default, another path, or off", (t) => {
  t.is(DEFAULT_SETTINGS.healthcheckPath, "/healthcheck");
  t.is(validateSettings({ healthcheckPath: "/status/ok" }).healthcheckPath, "/status/ok");
  t.is(validateSettings({ healthcheckPath: "" }).healthcheckPath, "");
});

test("loadSettingsFile names the file when it is missing or not JSON", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "settings-"));
  t.throws(() => loadSettingsFile(join(dir, "settings.json")), {
    instanceOf: SettingsError,
    message: /cannot read settings file .*settings\.json: ENOENT/,
  });
  writeFileSync(join(dir, "settings.json"), "{ not json");
  t.throws(() => loadSettingsFile(join(dir, "settings.json")), { instanceOf: SettingsError, message: /is not valid JSON/ });
  writeFileSync(join(dir, "settings.json"), JSON.stringify({ maxHeight: 99999 }));
  t.throws(() => loadSettingsFile(join(dir, "settings.json")), { message: /settings\.json: maxHeight must be an integer/ });
  writeFileSync(join(dir, "settings.json"), JSON.stringify({ maxHeight: 2000 }));
  t.is(loadSettingsFile(join(dir, "settings.json")).maxHeight, 2000);
});

test("originalContentTypes defaults to the image types we read, SVG left out; originalsPrefix to the whole bucket", (t) => {
  const d = validateSettings({});
  t.deepEqual(d.originalContentTypes, ["image/jpeg", "image/png", "image/webp", "image/avif", "image/gif", "image/heif", "image/tiff"]);
  t.false(d.originalContentTypes.includes("image/svg+xml"));
  t.is(d.originalsPrefix, "");
  const s = validateSettings({ originalContentTypes: ["image/svg+xml", "binary/octet-stream"], originalsPrefix: "st/images" });
  t.deepEqual(s.originalContentTypes, ["image/svg+xml", "binary/octet-stream"]);
  t.is(s.originalsPrefix, "st/images");
});

test("budgetErrorCacheControl: minutes by default, a string when given", (t) => {
  t.is(DEFAULT_SETTINGS.budgetErrorCacheControl, "public, max-age=600");
  t.is(validateSettings({ budgetErrorCacheControl: "public, max-age=3600" }).budgetErrorCacheControl, "public, max-age=3600");
  t.throws(() => validateSettings({ budgetErrorCacheControl: 600 }), { instanceOf: SettingsError, message: /budgetErrorCacheControl/ });
});

test("originResponseTimeoutSeconds: Lambda@Edge's 30 s by default, 1 to 30 when given (the component bakes it in)", (t) => {
  t.is(DEFAULT_SETTINGS.originResponseTimeoutSeconds, TRIGGER_LIMITS.value["origin-response"].maxTimeoutSeconds);
  t.is(validateSettings({ originResponseTimeoutSeconds: 10 }).originResponseTimeoutSeconds, 10);
  for (const bad of [0, 31, 2.5, "30"]) {
    t.throws(() => validateSettings({ originResponseTimeoutSeconds: bad }), {
      instanceOf: SettingsError,
      message: /originResponseTimeoutSeconds must be an integer from 1 to 30/,
    });
  }
});

test("each function is given the settings it reads and every other one at its default: origin-response gets no signing key", (t) => {
  const full = validateSettings({
    sizes: ["300x200"],
    maxWidth: 2000,
    maxFrames: 10,
    defaultQuality: 70,
    intermediate: "off",
    thumbor: { allowUnsafe: false, securityKey: "s3cr3t", retiredSecurityKeys: ["old-s3cr3t"], pathPrefix: "img", progressiveJpeg: false },
  });
  for (const reader of SETTING_READERS) {
    const share = settingsFor(reader, full) as unknown as Record<string, unknown> & { thumbor: Record<string, unknown> };
    const given = full as unknown as Record<string, unknown> & { thumbor: Record<string, unknown> };
    const defaults = DEFAULT_SETTINGS as unknown as Record<string, unknown> & { thumbor: Record<string, unknown> };
    for (const [name, entry] of Object.entries(SETTINGS_SCHEMA)) {
      const pick = (doc: typeof share) => ("group" in entry && entry.group ? doc.thumbor[name] : doc[name]);
      t.deepEqual(pick(share), pick((entry.readBy as readonly string[]).includes(reader) ? given : defaults), `${reader}: ${name}`);
    }
  }
  const origin = settingsFor("origin-response", full);
  t.is(origin.thumbor.securityKey, "");
  t.deepEqual(origin.thumbor.retiredSecurityKeys, []);
  t.false(JSON.stringify(origin).includes("s3cr3t"));
  t.is(settingsFor("viewer-request", full).thumbor.securityKey, "s3cr3t");
  // Settings both read stay the same in both (the variant key depends on them).
  t.is(origin.maxWidth, 2000);
  t.is(origin.thumbor.pathPrefix, "img");
  t.is(settingsFor("viewer-request", full).maxWidth, 2000);
});
