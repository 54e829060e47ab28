/**
 * The render budget (core/render-budget.ts): the planner refuses the costly chains an attacker
 * found with a 400 naming the cost, cached with the long budgetErrorCacheControl, while ordinary
 * URLs stay admitted; the estimate's max_bytes count covers the real search (render/fit-bytes.ts).
 */
import test from "ava";
import { RequestError } from "../../handlers/core/errors.js";
import { THUMBOR_FILTERS } from "../../handlers/core/filter-registry.js";
import { basePlan } from "../../handlers/core/plan.js";
import {
  ENCODE_MS_PER_MEGAPIXEL,
  ENLARGE_MS_PER_MEGAPIXEL,
  HIGH_QUALITY_ENCODE,
  checkRenderBudget,
  estimateRenderCost,
  maxBytesQualities,
} from "../../handlers/core/render-budget.js";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";
import { fitToMaxBytes } from "../../handlers/render/fit-bytes.js";
import { createRequestPlanner } from "../../handlers/url/request-plan.js";

const WEBP = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8";
const planner = createRequestPlanner(DEFAULT_SETTINGS);
const times = (n: number, filter: string) => Array(n).fill(filter).join(":");

function refusalOf(uri: string, accept?: string): RequestError {
  try {
    planner.plan(uri, "", accept);
  } catch (err) {
    if (err instanceof RequestError) return err;
    throw err;
  }
  throw new Error(`${uri} was admitted`);
}

const ATTACKS: [string, string, string | undefined, RegExp][] = [
  ["fill(blur) ×12 on 4093x4096", `/unsafe/4093x4096/filters:${times(12, "fill(blur)")}/sample.jpg`, WEBP, /12 × fill/],
  [
    "sharpen(100,100,true) ×3 + fill(blur) ×9",
    `/unsafe/fit-in/4096x4096/filters:${times(3, "sharpen(100,100,true)")}:${times(9, "fill(blur)")}/photo-74mp.jpg`,
    undefined,
    /9 × fill|3 × sharpen/,
  ],
  ["quality(100):max_bytes(1) in WebP", "/unsafe/4096x4096/filters:quality(100):max_bytes(1)/sample.jpg", WEBP, /encodes \(max_bytes\)/],
  [
    "12 watermarks of 12 other images",
    `/unsafe/300x200/filters:${Array.from({ length: 12 }, (_, i) => `watermark(extra/${i}.png,0,0,0)`).join(":")}/sample.jpg`,
    WEBP,
    /12 other images/,
  ],
  // A side the URL leaves open is the original's: up to maxWidth x maxHeight for the effects.
  ["blur(150) ×3 without a size", `/unsafe/filters:${times(3, "blur(150)")}/img.jpg`, WEBP, /3 × blur/],
  ["blur(150) ×3 at 0x0", `/unsafe/0x0/filters:${times(3, "blur(150)")}/img.jpg`, undefined, /3 × blur/],
  ["blur(150) ×3 at origxorig", `/unsafe/origxorig/filters:${times(3, "blur(150)")}/img.jpg`, WEBP, /3 × blur/],
  ["fill(blur) ×12 at 4096x0 (a proportional height)", `/unsafe/4096x0/filters:${times(12, "fill(blur)")}/img.jpg`, WEBP, /12 × fill/],
  ["sharpen ×2 at fit-in/0x4096", `/unsafe/fit-in/0x4096/filters:${times(2, "sharpen(100,100,true)")}/img.jpg`, WEBP, /2 × sharpen/],
];

for (const [what, uri, accept, part] of ATTACKS) {
  test(`the planner refuses ${what}: 400 too costly to render, long lifetime`, (t) => {
    const err = refusalOf(uri, accept);
    t.is(err.status, 400);
    t.regex(err.reason, /^too costly to render: about \d+ ms of work \(.+: \d+ ms\), the budget is 8000 ms$/);
    t.regex(err.reason, part);
    t.is(err.lifetime, "long");
  });
}

test("ordinary URLs, one fill(blur) at full size and four watermarks of one image stay within the budget", (t) => {
  for (const uri of [
    "/unsafe/300x200/smart/images/cat.jpg",
    "/unsafe/4096x4096/filters:fill(blur)/sample.jpg",
    "/unsafe/1200x800/filters:blur(10):sharpen(2,1,true):watermark(mark.png,10,10,50)/sample.jpg",
    `/unsafe/800x600/filters:${times(4, "watermark(mark.png,0,0,0)")}/sample.jpg`,
    "/unsafe/filters:format(gif)/animated.gif",
    "/unsafe/800x600/filters:max_bytes(35000)/sample.jpg",
    // Without a size: one effect at the largest output, and encodes the header will price.
    "/unsafe/filters:blur(2)/a.jpg",
    "/unsafe/filters:watermark(logos/w.png,10,10,50)/a.jpg",
    "/unsafe/filters:max_bytes(1000)/a.jpg",
    "/unsafe/filters:format(webp):quality(100)/a.png",
    "/unsafe/300x0/filters:blur(150):blur(150):blur(150)/a.jpg",
  ]) {
    t.notThrows(() => planner.plan(uri, "", WEBP), uri);
  }
});

test("without the header, an open side counts as large as the settings allow for the effects, the original at most maxInputPixels", (t) => {
  const plan = (width: number | "orig", height: number | "orig") => ({
    ...basePlan("a.jpg", 80),
    width,
    height,
    filters: [{ name: "equalize", args: [] }],
  });
  const effect = (p: ReturnType<typeof plan>, settings = DEFAULT_SETTINGS) =>
    estimateRenderCost(p, settings).find((i) => /equalize/.test(i.what))!.ms;
  const perMegapixel = THUMBOR_FILTERS.equalize!.renderCost;
  t.is(effect(plan(0, 0)), ((4096 * 4096) / 1e6) * perMegapixel);
  t.is(effect(plan("orig", 0)), effect(plan(0, 0)));
  t.is(effect(plan(300, 0)), ((300 * 4096) / 1e6) * perMegapixel);
  t.is(effect(plan(0, 300)), ((4096 * 300) / 1e6) * perMegapixel);
  t.is(effect(plan(0, 0), { ...DEFAULT_SETTINGS, maxInputPixels: 1_000_000 }), ((4096 * 244) / 1e6) * perMegapixel);
  t.falsy(
    estimateRenderCost(plan(0, 0), DEFAULT_SETTINGS).find((i) => /encode/.test(i.what)),
    "the encode of an open size waits for the header",
  );
});

test("the same second image counts once, each other one counts its worst-case decode", (t) => {
  const plan = (marks: string[]) => ({
    ...basePlan("a.jpg", 80),
    width: 100,
    height: 100,
    filters: marks.map((m) => ({ name: "watermark", args: [m, 0, 0, 0] })),
  });
  const others = (marks: string[]) => estimateRenderCost(plan(marks), DEFAULT_SETTINGS).find((i) => /other images/.test(i.what))?.ms;
  t.is(others(["a.png", "a.png", "a.png", "a.png"]), others(["a.png"]));
  t.is(others(["a.png", "b.png"]), 2 * others(["a.png"])!);
});

test("with the header, an open output side is the original's: a 200-frame 610x610 GIF kept animated is refused", (t) => {
  const plan = { ...basePlan("anim.gif", 80), format: "gif" as const };
  const source = { width: 610, height: 610, format: "gif" };
  t.notThrows(() => checkRenderBudget(plan, DEFAULT_SETTINGS), "the URL alone does not make it costly");
  t.notThrows(() => checkRenderBudget(plan, DEFAULT_SETTINGS, { source, frames: 1, format: "gif" }));
  const err = t.throws(() => checkRenderBudget(plan, DEFAULT_SETTINGS, { source, frames: 200, format: "gif" }), {
    instanceOf: RequestError,
  });
  t.regex(err.reason, /^too costly to render: .*\(encode: \d+ ms\)/);
});

test("with the header, an enlargement of a still image counts its JavaScript resample; a reduction does not", (t) => {
  const plan = { ...basePlan("logo.png", 80), width: 4096, height: 4096, format: "png" as const };
  const items = (source: { width: number; height: number }) =>
    estimateRenderCost(plan, DEFAULT_SETTINGS, { source: { ...source, format: "png" }, frames: 1, format: "png" });
  const enlarged = items({ width: 30, height: 30 }).find((i) => i.what === "enlargement");
  t.truthy(enlarged);
  t.is(Math.round(enlarged!.ms), Math.round(((4096 * 4096) / 1e6) * ENLARGE_MS_PER_MEGAPIXEL));
  t.falsy(items({ width: 8000, height: 8000 }).find((i) => i.what === "enlargement"));
  t.falsy(
    estimateRenderCost(plan, DEFAULT_SETTINGS).find((i) => i.what === "enlargement"),
    "viewer-request cannot tell",
  );
});

test("every effect of the registry records a measured cost; filters that are no pixel step cost nothing", (t) => {
  for (const d of Object.values(THUMBOR_FILTERS)) {
    if (d.handledBy === "effect") t.true(d.renderCost > 0, d.name);
    else t.is(d.renderCost, 0, d.name);
  }
});

/** thumbor's own step-by-step search (×0.75 down to 10, ×1.1 back up), the answer the bisection must keep. */
async function stepByStep<T extends { data: { length: number } }>(encodeAt: (q: number) => Promise<T>, quality: number, maxBytes: number) {
  let result = await encodeAt(quality);
  let q = quality;
  let tooBig = quality;
  while (result.data.length > maxBytes && q > 10) {
    tooBig = q;
    q = Math.max(10, Math.floor(q * 0.75));
    result = await encodeAt(q);
  }
  if (result.data.length > maxBytes) return result;
  for (let up = Math.floor(q * 1.1); up > q && up < tooBig; up = Math.floor(up * 1.1)) {
    const attempt = await encodeAt(up);
    if (attempt.data.length > maxBytes) break;
    result = attempt;
  }
  return result;
}

test("max_bytes: with sizes that shrink as the quality falls, the search answers thumbor's quality, in at most 8 encodes, 3 when nothing fits", async (t) => {
  let most = 0;
  for (let quality = 1; quality <= 100; quality++) {
    for (let fitsAt = 0; fitsAt <= quality + 1; fitsAt++) {
      // File size: 2 bytes from quality fitsAt up, 1 byte below it; max_bytes 1.
      const encoder = (count: { n: number }) => async (q: number) => ((count.n += 1), { data: { length: q < fitsAt ? 1 : 2 }, q });
      const [ours, theirs] = [{ n: 0 }, { n: 0 }];
      const answer = await fitToMaxBytes(encoder(ours), quality, 1);
      const expected = await stepByStep(encoder(theirs), quality, 1);
      if (answer.q !== expected.q) t.fail(`quality ${quality}, fits below ${fitsAt}: answered ${answer.q}, thumbor ${expected.q}`);
      most = Math.max(most, ours.n);
      if (fitsAt === 0 && quality > 10 && ours.n > 3) t.fail(`quality ${quality}: ${ours.n} encodes when nothing fits`);
    }
  }
  t.is(most, 8);
});

test("max_bytes: a 4096x4096 JPEG from quality 100 is priced at the costliest search, 8 encodes, the first at the high-quality cost", (t) => {
  const plan = {
    ...basePlan("a.jpg", 100),
    width: 4096,
    height: 4096,
    format: "jpeg" as const,
    filters: [{ name: "max_bytes", args: [1] }],
  };
  const item = estimateRenderCost(plan, DEFAULT_SETTINGS).find((i) => /max_bytes/.test(i.what))!;
  t.is(item.what, "8 encodes (max_bytes)");
  t.deepEqual(maxBytesQualities(100, "jpeg").slice(0, 3), [100, 75, 10]);
  const megapixels = (4096 * 4096) / 1e6;
  t.is(Math.round(item.ms), Math.round(megapixels * (HIGH_QUALITY_ENCODE.jpeg!.msPerMegapixel + 7 * ENCODE_MS_PER_MEGAPIXEL.jpeg)));
});

test("max_bytes: the estimate counts exactly the most encodes the real quality search makes", async (t) => {
  for (let quality = 1; quality <= 100; quality++) {
    // An encoder whose output fits from a threshold quality down: every path the search can take.
    let most = 0;
    for (let fitsAt = 0; fitsAt <= quality + 1; fitsAt++) {
      let encodes = 0;
      await fitToMaxBytes(async (q) => ((encodes += 1), { data: { length: q < fitsAt ? 1 : 2 } }), quality, 1);
      most = Math.max(most, encodes);
    }
    if (most !== maxBytesQualities(quality, "jpeg").length)
      t.fail(`quality ${quality}: at most ${most} encodes, counted ${maxBytesQualities(quality, "jpeg").length}`);
  }
  t.pass();
});
