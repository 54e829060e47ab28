/**
 * strip_exif: thumbor drops the image's EXIF before writing it. The registry declares it handled
 * by "none" (core/filter-registry.ts): edge-resizer's encoder writes no metadata at all, so every
 * variant is already stripped. These tests hold that claim: originals that carry EXIF give
 * variants without it, in every output format, with or without the filter.
 */
import test from "ava";
import sharp from "sharp";
import { THUMBOR_FILTERS } from "../../handlers/core/filter-registry.js";
import { OUTPUT_FORMATS } from "../../handlers/core/formats.js";
import { renderVariant } from "../../handlers/render/pipeline.js";
import { fixture, plan, settings } from "../helpers/images.js";

/** A small PNG with an EXIF block (a copyright and an orientation), and the JPEG fixture thumbor's tests use. */
async function originalsWithExif(): Promise<[string, Buffer][]> {
  const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#3080c0" } })
    .withExif({ IFD0: { Copyright: "edge-resizer test", Artist: "someone" } })
    .png()
    .toBuffer();
  return [
    ["giunchedi-cmyk-orientation-exif.jpg", fixture("giunchedi-cmyk-orientation-exif.jpg")],
    ["exif.png", png],
  ];
}

test("the originals do carry EXIF (else the checks below would prove nothing)", async (t) => {
  for (const [name, bytes] of await originalsWithExif()) t.truthy((await sharp(bytes).metadata()).exif, name);
});

test('strip_exif is declared handled by "none", and says why', (t) => {
  t.is(THUMBOR_FILTERS.strip_exif.handledBy, "none");
  t.regex(THUMBOR_FILTERS.strip_exif.inherent ?? "", /EXIF/);
});

for (const format of OUTPUT_FORMATS) {
  test(`a ${format} variant carries no EXIF, with or without strip_exif()`, async (t) => {
    for (const [name, original] of await originalsWithExif()) {
      for (const filters of [[], [{ name: "strip_exif", args: [] }]]) {
        const out = await renderVariant({ plan: plan({ format, width: 20, height: 15, filters }), original, settings });
        const meta = await sharp(out.body).metadata();
        t.is(meta.format === "heif" ? "avif" : meta.format, format, `${name} → ${format}`);
        t.is(meta.exif, undefined, `${name} → ${format}${filters.length ? " with strip_exif()" : ""}`);
      }
    }
  });
}
