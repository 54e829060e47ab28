/** The one table of formats: what the render may do with each, and what Accept can choose, derive from it. */
import test from "ava";
import {
  IMAGE_FORMATS,
  NEGOTIATED_FORMATS,
  OUTPUT_FORMATS,
  autojpgFormat,
  formatCan,
  formatOfOriginal,
  servedFormat,
  type FormatName,
} from "../../handlers/core/formats.js";

test("capabilities: animations only in GIF and WebP, alpha everywhere but JPEG, max_bytes and shrink-on-load in JPEG and WebP", (t) => {
  const having = (capability: Parameters<typeof formatCan>[1]) => OUTPUT_FORMATS.filter((f) => formatCan(f, capability));
  t.deepEqual(having("animation"), ["webp", "gif"]);
  t.deepEqual(having("alpha"), ["png", "webp", "avif", "gif"]);
  t.deepEqual(having("max-bytes"), ["jpeg", "webp"]);
  t.deepEqual(having("shrink-on-load"), ["jpeg", "webp"]);
  t.deepEqual(having("dct-scaling"), ["jpeg"], "libjpeg's scaled decode and DC scans are JPEG's alone");
});

test("formatCan reads sharp's names too (heif for AVIF), and knows nothing of unknown formats", (t) => {
  t.true(formatCan("heif", "alpha"));
  t.false(formatCan("heif", "animation"));
  t.false(formatCan("ppm", "alpha"));
  t.false(formatCan("toString", "alpha"), "no prototype property counts as a format");
});

test("Accept chooses AVIF before WebP, each behind its setting, by the table's content type", (t) => {
  t.deepEqual(NEGOTIATED_FORMATS, [
    { format: "avif", setting: "autoAvif", contentType: IMAGE_FORMATS.avif.contentType },
    { format: "webp", setting: "autoWebp", contentType: IMAGE_FORMATS.webp.contentType },
  ]);
});

test("an original's format from sharp's name and compression: heif is AVIF with AV1, HEIC with HEVC, HEIF otherwise", (t) => {
  t.is(formatOfOriginal("heif", "av1"), "avif");
  t.is(formatOfOriginal("heif", "hevc"), "heic");
  t.is(formatOfOriginal("heif"), "heif");
  t.is(formatOfOriginal("heif", "jpeg"), "heif");
  t.is(formatOfOriginal("jpeg"), "jpeg");
  t.is(formatOfOriginal("svg"), "svg");
  t.is(formatOfOriginal("ppm"), undefined);
});

test("originals are served in their own format when it is written, TIFF and SVG as PNG, HEIF and HEIC as JPEG; autojpg turns PNG alone into JPEG", (t) => {
  const served = Object.fromEntries((Object.keys(IMAGE_FORMATS) as FormatName[]).map((f) => [f, servedFormat(f)]));
  t.deepEqual(served, {
    jpeg: "jpeg",
    png: "png",
    webp: "webp",
    avif: "avif",
    gif: "gif",
    heif: "jpeg",
    heic: "jpeg",
    tiff: "png",
    svg: "png",
  });
  t.deepEqual(OUTPUT_FORMATS.map(autojpgFormat), ["jpeg", "jpeg", "webp", "avif", "gif"]);
});
