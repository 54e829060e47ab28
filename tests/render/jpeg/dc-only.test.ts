/**
 * The DC-only rewrite (handlers/render/jpeg/dc-only.ts): at libjpeg's 1/8 scale (libvips'
 * `shrink=8` load, what sharp's shrink-on-load uses) the rewritten file decodes to exactly the
 * pixels of the whole file, it is a valid JPEG libjpeg reads without a warning, and every file the
 * rewrite is not sure of is left alone.
 */
import test from "ava";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { dcOnlyJpeg, emptyScanData } from "../../../handlers/render/jpeg/dc-only.js";
import { blockCount, readJpegLayout, type JpegLayout } from "../../../handlers/render/jpeg/markers.js";
import { fixture } from "../../helpers/images.js";
import { arithmeticHeader, progressiveJpeg, withLumaAcFrom10, withRestartInterval } from "../../helpers/jpeg.js";

let files = 0;
/** The pixels libvips decodes from `jpeg` at 1/`shrink` (load options only reach it through a file name). */
async function decodedAt(jpeg: Buffer, shrink: number, failOn: "warning" | "none" = "warning"): Promise<Buffer> {
  const file = join(tmpdir(), `dc-only-test-${process.pid}-${files++}.jpg`);
  writeFileSync(file, jpeg);
  try {
    return await sharp(`${file}[shrink=${shrink}]`, { failOn }).raw().toBuffer();
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * Each case with the form its rewrite takes: "baseline" (every component decoded from DC alone:
 * dc-baseline.ts) or "progressive" (4:2:0 chroma reads AC coefficients at 1/8: the AC scans of
 * luma emptied, chroma's kept).
 */
const cases: [string, "baseline" | "progressive", () => Promise<Buffer>][] = [
  ["4:2:0, odd size", "progressive", () => progressiveJpeg(203, 117, { chromaSubsampling: "4:2:0" })],
  ["4:4:4", "baseline", () => progressiveJpeg(160, 96, { chromaSubsampling: "4:4:4" })],
  ["greyscale", "baseline", () => progressiveJpeg(131, 77, {}, true)],
  ["optimiseScans", "progressive", () => progressiveJpeg(211, 139, { optimiseScans: true })],
  ["mozjpeg defaults", "progressive", () => progressiveJpeg(190, 121, { mozjpeg: true })],
  ["mozjpeg, 4:4:4", "baseline", () => progressiveJpeg(190, 121, { mozjpeg: true, chromaSubsampling: "4:4:4" })],
  ["a few MCUs, odd size", "progressive", () => progressiveJpeg(75, 43)],
  ["a few MCUs, odd size, 4:4:4", "baseline", () => progressiveJpeg(75, 43, { chromaSubsampling: "4:4:4" })],
  [
    "CMYK (four components)",
    "baseline",
    async () =>
      sharp(await progressiveJpeg(150, 100))
        .toColourspace("cmyk")
        .jpeg({ progressive: true })
        .toBuffer(),
  ],
];

for (const [name, form, make] of cases) {
  test(`${name}: the same pixels at 1/8, different ones at 1/4, read without a warning (${form})`, async (t) => {
    const jpeg = await make();
    const dcOnly = dcOnlyJpeg(jpeg);
    if (!dcOnly) return t.fail("not rewritten");
    t.true((await decodedAt(dcOnly, 8)).equals(await decodedAt(jpeg, 8)), "bit-identical at 1/8");
    t.false((await decodedAt(dcOnly, 4)).equals(await decodedAt(jpeg, 4)), "AC coefficients really are gone");
    await t.notThrowsAsync(sharp(dcOnly, { failOn: "warning" }).raw().toBuffer(), "a valid JPEG: every scan codes exactly its blocks");
    const layout = readJpegLayout(dcOnly)!;
    t.is(layout.progressive, form === "progressive");
    if (form === "baseline")
      t.deepEqual(
        layout.scans.map(({ ss, se, ah, al }) => [ss, se, ah, al]),
        [[0, 63, 0, 0]],
        "one scan of every component",
      );
  });
}

test("the photo: Elephants 5640x3172 (4:2:2) is the same at 1/8 from under 5 % of its bytes, as a baseline file", async (t) => {
  const jpeg = readFileSync(join(__dirname, "..", "..", "..", "bench", "photos", "Elephants_5640x3172.jpg"));
  const dcOnly = dcOnlyJpeg(jpeg)!;
  t.true(dcOnly.length < jpeg.length * 0.05, `${dcOnly.length} of ${jpeg.length} bytes`);
  t.false(readJpegLayout(dcOnly)!.progressive);
  t.true((await decodedAt(dcOnly, 8)).equals(await decodedAt(jpeg, 8)));
});

test("4:2:0: luma keeps one AC scan, of coefficients 1 to 63, final and empty, where libjpeg's script has four; chroma's scans stay as they are", async (t) => {
  const jpeg = await progressiveJpeg(160, 96, { chromaSubsampling: "4:2:0" });
  const acScans = (layout: JpegLayout, component: number) =>
    layout.scans.filter((scan) => scan.ss > 0 && scan.components[0] === component).map(({ ss, se, ah, al }) => [ss, se, ah, al]);
  const original = readJpegLayout(jpeg)!;
  const rewritten = readJpegLayout(dcOnlyJpeg(jpeg)!)!;
  t.is(acScans(original, 0).length, 4, "libjpeg's script: luma 1-5, 6-63 and two refinements");
  t.deepEqual(acScans(rewritten, 0), [[1, 63, 0, 0]]);
  for (const chroma of [1, 2]) t.deepEqual(acScans(rewritten, chroma), acScans(original, chroma));
});

test("every component decoded from DC alone: a baseline file, its DC coefficients (first scan and refinement) in one scan", async (t) => {
  const jpeg = await progressiveJpeg(160, 96, { chromaSubsampling: "4:4:4" });
  const dcScans = readJpegLayout(jpeg)!.scans.filter((scan) => scan.ss === 0);
  t.deepEqual(
    dcScans.map(({ ah, al }) => [ah, al]),
    [
      [0, 1],
      [1, 0],
    ],
    "libjpeg's script: the DC at point transform 1, then its last bit",
  );
  const baseline = dcOnlyJpeg(jpeg)!;
  t.false(readJpegLayout(baseline)!.progressive);
  t.true((await decodedAt(baseline, 8)).equals(await decodedAt(jpeg, 8)));
  // Without its refinement the DC is off by one step: the refinement's bits are really read.
  const withoutRefinement = Buffer.concat([jpeg.subarray(0, dcScans[1]!.start), jpeg.subarray(dcScans[1]!.dataEnd)]);
  t.false((await decodedAt(dcOnlyJpeg(withoutRefinement)!, 8)).equals(await decodedAt(jpeg, 8)));
});

test("a quantisation table defined again between scans, or DC data that ends early: no baseline file, the progressive rewrite, the same pixels", async (t) => {
  const jpeg = await progressiveJpeg(160, 96, { chromaSubsampling: "4:4:4" });
  const layout = readJpegLayout(jpeg)!;
  const dqt = jpeg.indexOf(Buffer.from([0xff, 0xdb]));
  const dqtSegment = jpeg.subarray(dqt, dqt + 2 + jpeg.readUInt16BE(dqt + 2));
  const second = layout.scans[1]!.start;
  const laterDqt = Buffer.concat([jpeg.subarray(0, second), dqtSegment, jpeg.subarray(second)]);
  const first = layout.scans[0]!;
  const cut = Buffer.concat([jpeg.subarray(0, first.dataStart + 40), jpeg.subarray(first.dataEnd)]);
  for (const [name, file] of [
    ["DQT between scans", laterDqt],
    ["DC data ends early", cut],
  ] as const) {
    const dcOnly = dcOnlyJpeg(file);
    if (!dcOnly) return t.fail(`${name}: not rewritten`);
    t.true(readJpegLayout(dcOnly)!.progressive, name);
    t.true((await decodedAt(dcOnly, 8, "none")).equals(await decodedAt(file, 8, "none")), name);
  }
});

test("a component whose AC scans never reach coefficients 1 to 9 keeps them as they are, emptied: libjpeg then smooths its DC, and the pixels stay the same", async (t) => {
  const jpeg = withLumaAcFrom10(await progressiveJpeg(160, 96, { chromaSubsampling: "4:4:4" }));
  const layout = readJpegLayout(jpeg)!;
  const lumaAc = layout.scans.filter((scan) => scan.ss > 0 && scan.components[0] === 0);
  t.deepEqual(
    lumaAc.map(({ ss, se }) => [ss, se]),
    [[10, 63]],
  );
  await t.notThrowsAsync(sharp(jpeg, { failOn: "warning" }).raw().toBuffer(), "the test file is a valid JPEG");
  // The same file with that scan widened to coefficient 1: no DC smoothing, so other pixels at 1/8.
  const widened = Buffer.from(jpeg);
  widened[lumaAc[0]!.dataStart - 3] = 1;
  t.false((await decodedAt(widened, 8)).equals(await decodedAt(jpeg, 8)), "DC smoothing changes this file's pixels at 1/8");
  const dcOnly = dcOnlyJpeg(jpeg);
  if (!dcOnly) return t.fail("not rewritten");
  t.deepEqual(
    readJpegLayout(dcOnly)!
      .scans.filter((scan) => scan.ss > 0 && scan.components[0] === 0)
      .map(({ ss, se }) => [ss, se]),
    [[10, 63]],
  );
  t.true((await decodedAt(dcOnly, 8)).equals(await decodedAt(jpeg, 8)), "bit-identical at 1/8");
});

test("an empty scan one block short is caught: libjpeg warns, so the exact block count is what the validity check proves", async (t) => {
  const jpeg = await progressiveJpeg(64, 48, { chromaSubsampling: "4:2:0" });
  const dcOnly = dcOnlyJpeg(jpeg)!;
  const layout = readJpegLayout(dcOnly)!;
  const scan = layout.scans.find((s) => s.ss > 0)!;
  const short = emptyScanData(blockCount(layout, scan.components[0]!) - 1);
  const broken = Buffer.concat([dcOnly.subarray(0, scan.dataStart), short, dcOnly.subarray(scan.dataEnd)]);
  await t.throwsAsync(sharp(broken, { failOn: "warning" }).raw().toBuffer());
});

test("empty-scan data: runs of at most 32767 blocks, 0xFF stuffed, padded with 1-bits", (t) => {
  // One block: EOB0, code 0000, no extra bits, padded: 0000 1111.
  t.deepEqual([...emptyScanData(1)], [0x0f]);
  // 32767 blocks: EOB14 (1110) and 14 one-bits: 1110 1111 1111 1111 11 → 0xEF 0xFF 0x00 0xFF 0x00 (padded).
  t.deepEqual([...emptyScanData(32767)], [0xef, 0xff, 0x00, 0xff, 0x00]);
  // 32768 blocks: one longest run, then EOB0 for the last block.
  t.is(emptyScanData(32768)[0], 0xef);
});

test("files the rewrite is not sure of are left alone: baseline, restart markers, arithmetic coding, truncated, garbage", async (t) => {
  const progressive = await progressiveJpeg(64, 48);
  t.truthy(dcOnlyJpeg(progressive));
  t.is(dcOnlyJpeg(fixture("raindrops-480.jpg")), null, "baseline");
  t.is(dcOnlyJpeg(withRestartInterval(progressive)), null, "restart interval");
  t.is(dcOnlyJpeg(arithmeticHeader("sof")), null, "arithmetic coding");
  t.is(dcOnlyJpeg(progressive.subarray(0, progressive.length - 10)), null, "truncated");
  t.is(dcOnlyJpeg(Buffer.from("GIF89a")), null);
});

test("never larger than the original: a file whose AC scans are already a few bytes is left alone", async (t) => {
  // Each emptied scan gains two table definitions: a flat image's scans are smaller than that.
  const flat = await sharp({ create: { width: 1024, height: 1024, channels: 3, background: "#808080" } })
    .jpeg({ progressive: true })
    .toBuffer();
  t.true(readJpegLayout(flat)!.progressive);
  t.is(dcOnlyJpeg(flat), null);
});
