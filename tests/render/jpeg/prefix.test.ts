import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { basePlan } from "../../../handlers/core/plan.js";
import { DEFAULT_SETTINGS as settings } from "../../../handlers/core/settings.js";
import { readJpegLayout } from "../../../handlers/render/jpeg/markers.js";
import { DcPrefixWatch, dcDecodeComplete, dcPrefixWatch, type PrefixVerdict } from "../../../handlers/render/jpeg/prefix.js";
import { WholeOriginalNeeded, renderVariant } from "../../../handlers/render/pipeline.js";
import { progressiveJpeg, withRestartInterval } from "../../helpers/jpeg.js";

const elephants = readFileSync(join(__dirname, "..", "..", "..", "bench", "photos", "Elephants_5640x3172.jpg"));
const SOS = Buffer.from([0xff, 0xda]);

/** Feeds `jpeg` to a watch in chunks of `chunk` bytes, as the client does, until it decides. */
function watchInChunks(jpeg: Buffer, chunk: number, output = { width: 10, height: 10 }): PrefixVerdict {
  const watch = new DcPrefixWatch(output);
  for (let read = chunk; ; read += chunk) {
    const verdict = watch.check(jpeg.subarray(0, Math.min(read, jpeg.length)));
    if (verdict !== "more" || read >= jpeg.length) return verdict;
  }
}

function sosOffsets(jpeg: Buffer): number[] {
  const out: number[] = [];
  for (let at = jpeg.indexOf(SOS); at >= 0; at = jpeg.indexOf(SOS, at + 2)) out.push(at);
  return out;
}

test("readJpegLayout's endAt reads a prefix ending at a scan as a whole file: the whole file's first scans", (t) => {
  const whole = readJpegLayout(elephants)!;
  const at = whole.scans[3]!.start;
  const prefix = readJpegLayout(elephants, at)!;
  t.deepEqual(prefix.scans, whole.scans.slice(0, 3));
  t.is(prefix.end, at);
  // A cut inside a segment or a scan's data is not a file.
  t.is(readJpegLayout(elephants, at - 1), null);
});

test("dcDecodeComplete: Elephants (4:2:2, libjpeg's scans) only once its DC refinement scan is read", (t) => {
  const whole = readJpegLayout(elephants)!;
  const refinement = whole.scans.findIndex((s) => s.ss === 0 && s.ah === 1);
  t.true(refinement > 0);
  for (let i = 1; i < whole.scans.length; i++) {
    const layout = readJpegLayout(elephants, whole.scans[i]!.start)!;
    t.is(dcDecodeComplete(layout), i > refinement, `after ${i} scans`);
  }
  t.true(dcDecodeComplete(whole));
});

test("dcDecodeComplete: 4:2:0 chroma (a larger IDCT at 1/8) must be complete, not only its DC", async (t) => {
  const jpeg = await progressiveJpeg(512, 512);
  const whole = readJpegLayout(jpeg)!;
  const lastChroma = whole.scans.length - 1 - [...whole.scans].reverse().findIndex((s) => s.components.some((c) => c !== 0));
  const dcDone = whole.scans.findIndex((s) => s.ss === 0 && s.al === 0);
  t.true(lastChroma > dcDone);
  t.false(dcDecodeComplete(readJpegLayout(jpeg, whole.scans[lastChroma]!.start)!));
  t.true(dcDecodeComplete(readJpegLayout(jpeg, whole.scans[lastChroma]!.dataEnd)!));
});

test("the watch stops at the SOS after the last needed scan, whatever the chunks", (t) => {
  const layout = readJpegLayout(elephants)!;
  const refinement = layout.scans.findIndex((s) => s.ss === 0 && s.ah === 1);
  const expected = { end: layout.scans[refinement + 1]!.start };
  for (const chunk of [16_384, 65_536, 1_000_003]) t.deepEqual(watchInChunks(elephants, chunk), expected, `chunks of ${chunk}`);
  t.true(sosOffsets(elephants).includes(expected.end));
});

test("the watch gives up on what the 1/8 decode cannot cut: restart markers, arithmetic coding, an output less than 8 times smaller", async (t) => {
  const jpeg = await progressiveJpeg(800, 800, { chromaSubsampling: "4:4:4" });
  t.deepEqual(watchInChunks(jpeg, 4096), { end: firstCompleteEnd(jpeg) });
  t.is(watchInChunks(withRestartInterval(jpeg), 4096), "whole");
  const sof10 = Buffer.from(jpeg);
  sof10[sof10.indexOf(Buffer.from([0xff, 0xc2])) + 1] = 0xca;
  t.is(watchInChunks(sof10, 4096), "whole");
  t.is(watchInChunks(jpeg, 4096, { width: 101, height: 10 }), "whole");
  // EXIF may turn the picture: 8x in one of the two orientations is enough.
  const wide = await progressiveJpeg(800, 400, { chromaSubsampling: "4:4:4" });
  t.not(watchInChunks(wide, 4096, { width: 50, height: 100 }), "whole");
});

/** The first scan end after which the exact reading says the 1/8 decode is complete. */
function firstCompleteEnd(jpeg: Buffer): number | undefined {
  return sosOffsets(jpeg).find((at) => {
    const layout = readJpegLayout(jpeg, at);
    return layout !== null && dcDecodeComplete(layout);
  });
}

test("the watch never decides on a baseline JPEG or another format: it is read whole", async (t) => {
  const baseline = readFileSync(join(__dirname, "..", "..", "..", "bench", "photos", "RainDrops.jpg"));
  t.is(watchInChunks(baseline, 65_536), "more");
  t.is(watchInChunks(Buffer.from("not a jpeg at all, \xff\xda inside"), 8), "more");
});

test("an SOS-looking pair inside an APP segment before the frame is not taken for a scan", async (t) => {
  const jpeg = await progressiveJpeg(800, 800, { chromaSubsampling: "4:4:4" });
  const payload = Buffer.from([0x45, 0x78, 0x69, 0x66, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08, 0xff, 0xda]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0x00, payload.length + 2]), payload]);
  const patched = Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
  const plain = watchInChunks(jpeg, 4096) as { end: number };
  t.deepEqual(watchInChunks(patched, 4096), { end: plain.end + app1.length });
});

test("dcPrefixWatch: only a resize of the whole image to a box may be rendered from a prefix", (t) => {
  const plan = { ...basePlan("images/a.jpg", 80), width: 300, height: 200 };
  t.truthy(dcPrefixWatch(plan));
  t.truthy(dcPrefixWatch({ ...plan, height: 0 }));
  t.is(dcPrefixWatch({ ...plan, width: 0, height: 0 }), null);
  t.is(dcPrefixWatch({ ...plan, width: "orig" }), null);
  t.is(dcPrefixWatch({ ...plan, meta: true }), null);
  t.is(dcPrefixWatch({ ...plan, trim: { corner: "top-left", tolerance: 0 } }), null);
  t.is(dcPrefixWatch({ ...plan, crop: { left: 0, top: 0, right: 10, bottom: 10 } }), null);
});

test("the render refuses a prefix it cannot decode at 1/8 from DC alone: WholeOriginalNeeded, never a picture", async (t) => {
  const jpeg = await progressiveJpeg(1600, 1600, { chromaSubsampling: "4:4:4" });
  const end = (watchInChunks(jpeg, 4096) as { end: number }).end;
  const plan = { ...basePlan("images/a.jpg", 80), width: 200, height: 200, format: "jpeg" as const };
  const fromPrefix = await renderVariant({ plan, original: jpeg.subarray(0, end), settings, dcPrefix: true });
  t.true(fromPrefix.body.equals((await renderVariant({ plan, original: jpeg, settings })).body));
  // A smaller downscale (4x), trim, or a prefix without every DC scan.
  await t.throwsAsync(
    renderVariant({ plan: { ...plan, width: 400, height: 400 }, original: jpeg.subarray(0, end), settings, dcPrefix: true }),
    {
      instanceOf: WholeOriginalNeeded,
    },
  );
  await t.throwsAsync(
    renderVariant({
      plan: { ...plan, trim: { corner: "top-left", tolerance: 0 } },
      original: jpeg.subarray(0, end),
      settings,
      dcPrefix: true,
    }),
    { instanceOf: WholeOriginalNeeded },
  );
  const early = readJpegLayout(jpeg)!.scans[1]!.start;
  await t.throwsAsync(renderVariant({ plan, original: jpeg.subarray(0, early), settings, dcPrefix: true }), {
    instanceOf: WholeOriginalNeeded,
  });
});
