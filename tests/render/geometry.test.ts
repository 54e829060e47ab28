/**
 * thumbor's transformer geometry against the upstream vectors (thumbor_transformer_vectors.json:
 * the `observed_*` blocks are the output of the real upstream Transformer) and the README examples.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  autoCropBox,
  centreOfMass,
  clampManualCrop,
  fillLayout,
  parseFocalBox,
  planOperations,
  proportionSize,
  trimBox,
  type FocalPoint,
  type ThumborOperation,
} from "../../handlers/render/geometry.js";
import { metaDocument } from "../../handlers/render/meta.js";
import { basePlan, type FitMode, type TransformPlan } from "../../handlers/core/plan.js";
import { pyRound, pyRound2 } from "../../handlers/core/python.js";

const vectors = JSON.parse(readFileSync(join(__dirname, "..", "fixtures/thumbor-vectors/thumbor_transformer_vectors.json"), "utf8"));

function plan(over: Partial<TransformPlan>): TransformPlan {
  return { ...basePlan("a.jpg", 80), ...over };
}

/** The engine calls thumbor made, as [name, ...numbers] with Python floats turned to numbers. */
function stepsAsCalls(steps: ThumborOperation[]): (string | number)[][] {
  return steps.map((s) => {
    switch (s.type) {
      case "crop":
        return ["crop", s.left, s.top, s.right, s.bottom];
      case "resize":
        return ["resize", s.width, s.height];
      default:
        return [s.type];
    }
  });
}

test("pyRound is Python's round-half-to-even", (t) => {
  t.deepEqual([0.5, 1.5, 2.5, 3.5, 4.5, -0.5, 2.4999, 2.5001, 262.5, 14.5].map(pyRound), [0, 2, 2, 4, 4, 0, 2, 3, 262, 14]);
});

test("pyRound2 matches Python round(x, 2) including binary ties", (t) => {
  // Python: round(0.125,2)=0.12, round(0.375,2)=0.38, round(2.675,2)=2.67, round(1.005,2)=1.0
  t.is(pyRound2(0.125), 0.12);
  t.is(pyRound2(0.375), 0.38);
  t.is(pyRound2(2.675), 2.67);
  t.is(pyRound2(1.005), 1);
  t.is(pyRound2(4 / 3), 1.33);
  t.is(pyRound2(800 / 600), pyRound2(400 / 300));
});

for (const [i, v] of (vectors.fit_in as any[]).entries()) {
  const r = v.request;
  const fit: FitMode = r.adaptive ? (r.full ? "adaptive-full-fit-in" : "adaptive-fit-in") : r.full ? "full-fit-in" : "fit-in";
  test(`fit_in vector ${i}: ${v.source_size.join("x")} ${fit} ${r.width}x${r.height}`, (t) => {
    const observed = v.observed_by_running_upstream_transformer;
    const ops = planOperations(plan({ fit, width: r.width, height: r.height }), v.source_size[0], v.source_size[1]);
    t.deepEqual(
      stepsAsCalls(ops.steps),
      observed.calls.map((c: any[]) => c.map((x) => (typeof x === "number" ? x : x))),
    );
    t.deepEqual([ops.target.width, ops.target.height], observed.final_size);
    t.is(ops.autoCrop, null, "fit-in never crops");
    const after = observed.request_after;
    if (after.width !== "orig") t.is(ops.request.width, after.width);
    if (after.height !== "orig") t.is(ops.request.height, after.height);
  });
}

/** `[fp(100, 50, 1), fp(300, 50, 1)]` → focal points (x, y, weight). */
function parseFocalPoints(text: string | unknown[]): FocalPoint[] {
  if (Array.isArray(text)) return [];
  return [...text.matchAll(/fp\((\d+), (\d+), (\d+)\)/g)].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    weight: Number(m[3]),
    width: 1,
    height: 1,
    origin: "Explicit" as const,
  }));
}

for (const [i, v] of (vectors.resize_crop as any[]).entries()) {
  const r = v.request;
  const observed = v["observed_by_running_upstream_transformer(no manual crop)"];
  if (observed.error) {
    // Upstream raised because the vector's halign is "middle" (not a thumbor halign; our plans
    // cannot hold it). Check the same request with "center" against the box derived by hand from
    // thumbor's auto_crop formulas (thumbor/transformer.py), noted beside each case.
    const derived: Record<string, number[] | null> = {
      // target 400x400 (orig height = 400): crop_w = ceil(400*400/400) = 400, left = round(400 - 200)
      "400xorig": [200, 0, 800 - 200, 400],
      // target 800x100: crop_h = round(800*100/800) = 100, top = round(200 - 50) = 150
      origx100: [0, 150, 800, 250],
      // target 800x400: same ratio, nothing to crop
      origxorig: null,
    };
    const key = `${r.width}x${r.height}`;
    test(`resize_crop vector ${i}: ${v.source_size.join("x")} → ${key} center/${r.valign} (upstream: ${observed.error})`, (t) => {
      const ops = planOperations(
        plan({ width: r.width, height: r.height, halign: "center", valign: r.valign }),
        v.source_size[0],
        v.source_size[1],
      );
      const crop = ops.steps.find((s) => s.type === "crop");
      const box = crop && crop.type === "crop" ? [crop.left, crop.top, crop.right, crop.bottom] : null;
      t.true(key in derived, "every erroring vector has a hand-derived expectation");
      t.deepEqual(box, derived[key]);
    });
    continue;
  }
  test(`resize_crop vector ${i}: ${v.source_size.join("x")} → ${r.width}x${r.height} ${r.halign}/${r.valign} (${parseFocalPoints(r.focal_points).length} focal points)`, (t) => {
    const [sw, sh] = v.source_size as [number, number];
    const points = parseFocalPoints(r.focal_points);
    // Focal points reach planOperations through focal() filters; feed the vector's points into the
    // same auto-crop function with the same target to cover the weighted-centre arithmetic.
    const p = plan({ width: r.width, height: r.height, halign: r.halign, valign: r.valign });
    const ops = planOperations(p, sw, sh);
    const expected = observed.calls as (string | number)[][];
    if (points.length === 0) {
      const calls = stepsAsCalls(ops.steps);
      const zeroWide = expected.find((c) => c[0] === "crop" && (c[1] === c[3] || c[2] === c[4]));
      t.deepEqual(calls, expected);
      t.deepEqual([ops.target.width, ops.target.height], observed.final_size);
      if (zeroWide) {
        // thumbor crops to a 0-px box here; the executable crop keeps 1 px (documented deviation).
        t.true(ops.autoCrop!.width >= 1 && ops.autoCrop!.height >= 1);
      }
    } else {
      const target = { width: r.width, height: r.height };
      const box = autoCropBox(sw, sh, target, centreOfMass(points));
      const expectedCrop = expected.find((c) => c[0] === "crop");
      t.deepEqual(box ? ["crop", box.left, box.top, box.right, box.bottom] : undefined, expectedCrop);
    }
  });
}

test("focal points given as focal() filters drive the crop like the vectors' points", (t) => {
  // 400x200 → 100x200 with points (300,50) and (300,150): thumbor crops (250,0,350,200).
  const p = plan({
    width: 100,
    height: 200,
    filters: [
      { name: "focal", args: ["299x49:301x51"] },
      { name: "focal", args: ["299x149:301x151"] },
    ],
  });
  const ops = planOperations(p, 400, 200);
  t.deepEqual(stepsAsCalls(ops.steps), [["crop", 250, 0, 350, 200]]);
  t.deepEqual(
    ops.focalPoints.map((f) => [f.x, f.y, f.weight, f.origin]),
    [
      [300, 50, 4, "Explicit"],
      [300, 150, 4, "Explicit"],
    ],
  );
});

test("focal(146x156:279x208) is the point (212,182) of weight 133*52; bad boxes are ignored", (t) => {
  t.deepEqual(parseFocalBox("146x156:279x208"), { x: 212, y: 182, weight: 133 * 52, width: 133, height: 52, origin: "Explicit" });
  t.is(parseFocalBox("0x0:0x0"), null);
  t.is(parseFocalBox("lkasjdklfjlkajsfd"), null);
  t.is(parseFocalBox(undefined), null);
});

test("README: 200x140 → 180x100 crops (0,14,200,125), half-to-even at work", (t) => {
  const ops = planOperations(plan({ width: 180, height: 100 }), 200, 140);
  t.deepEqual(ops.autoCrop, { left: 0, top: 14, width: 200, height: 111 });
  t.deepEqual(ops.resize, { width: 180, height: 100 });
  t.deepEqual(ops.steps[0], { type: "crop", left: 0, top: 14, right: 200, bottom: 125 });
});

test("README: manual crop 0x0:1681x596/1x on 300x400 is clamped to the image, then width 1", (t) => {
  const ops = planOperations(plan({ crop: { left: 0, top: 0, right: 1681, bottom: 596 }, width: 1, height: 0 }), 300, 400);
  t.deepEqual(ops.manualCrop, { left: 0, top: 0, width: 300, height: 400 });
  // height = round(1 * 400 / 300) = 1
  t.deepEqual(ops.target, { width: 1, height: 1 });
});

test("manual crop: left >= right after clamping is dropped (thumbor test_transformer.py:67)", (t) => {
  const ops = planOperations(plan({ crop: { left: 200, top: 0, right: 100, bottom: 100 }, width: 800, height: 600 }), 800, 600);
  t.is(ops.manualCrop, null);
  t.deepEqual(ops.steps, []);
  t.is(clampManualCrop({ left: 900, top: 0, right: 1000, bottom: 10 }, 800, 600), null);
});

test("manual crop is shifted by the trim offset before clamping", (t) => {
  t.deepEqual(clampManualCrop({ left: 10, top: 20, right: 50, bottom: 60 }, 100, 100, { left: 5, top: 5 }), {
    left: 5,
    top: 15,
    right: 45,
    bottom: 55,
  });
});

test("target after a manual crop applies to the cropped region, and focal points outside it are dropped", (t) => {
  const p = plan({
    crop: { left: 100, top: 0, right: 300, bottom: 100 },
    width: 50,
    height: 50,
    filters: [
      { name: "focal", args: ["0x0:10x10"] },
      { name: "focal", args: ["250x40:260x60"] },
    ],
  });
  const ops = planOperations(p, 400, 300);
  t.deepEqual(ops.manualCrop, { left: 100, top: 0, width: 200, height: 100 });
  t.deepEqual(
    ops.focalPoints.map((f) => [f.x, f.y]),
    [[155, 50]],
  );
  // crop box 100x100 around x=155 within 200 → left = 105
  t.deepEqual(ops.autoCrop, { left: 100, top: 0, width: 100, height: 100 });
  t.deepEqual(ops.target, { width: 50, height: 50 });
});

test("flips via negative sizes (thumbor test_transformer.py:203) come after the resize", (t) => {
  const ops = planOperations(plan({ width: 800, height: 600, flipHorizontal: true, flipVertical: true }), 800, 600);
  t.deepEqual(stepsAsCalls(ops.steps), [["flip_horizontally"], ["flip_vertically"]]);
  t.true(ops.flipHorizontal && ops.flipVertical);
  const flipsOnly = planOperations(plan({ flipHorizontal: true }), 30, 20);
  t.is(flipsOnly.resize, null);
  t.deepEqual(flipsOnly.target, { width: 30, height: 20 });
});

test("stretch() resizes to exactly WxH without cropping (thumbor test_transformer.py:227)", (t) => {
  const ops = planOperations(plan({ width: 800, height: 200, filters: [{ name: "stretch", args: [] }] }), 800, 600);
  t.deepEqual(stepsAsCalls(ops.steps), [["resize", 800, 200]]);
  t.is(ops.autoCrop, null);
});

test("no_upscale() clamps the request to the source (thumbor test_no_upscale.py)", (t) => {
  const big = planOperations(plan({ width: 600, height: 400, filters: [{ name: "no_upscale", args: [] }] }), 300, 200);
  t.deepEqual(big.target, { width: 300, height: 200 });
  t.is(big.resize, null);
  const small = planOperations(plan({ width: 150, height: 100, filters: [{ name: "no_upscale", args: [] }] }), 300, 200);
  t.deepEqual(small.target, { width: 150, height: 100 });
  const without = planOperations(plan({ width: 600, height: 400 }), 300, 200);
  t.deepEqual(without.target, { width: 600, height: 400 }, "crop mode upscales freely without no_upscale");
});

test("plain fit-in never upscales unless upscale(); full-fit-in does", (t) => {
  const plain = planOperations(plan({ fit: "fit-in", width: 400, height: 400 }), 100, 50);
  t.is(plain.resize, null);
  t.deepEqual(plain.target, { width: 100, height: 50 });
  const up = planOperations(plan({ fit: "fit-in", width: 400, height: 400, filters: [{ name: "upscale", args: [] }] }), 100, 50);
  t.deepEqual(up.resize, { width: 400, height: 200 });
  const full = planOperations(plan({ fit: "full-fit-in", width: 400, height: 400 }), 100, 50);
  t.deepEqual(full.resize, { width: 800, height: 400 });
});

test("fit-in rounds .5 up (+1e-5) where crop-mode proportions round half to even", (t) => {
  // 600x800 fit-in 0x350: proportional width is round(262.5)=262 (half-even) → box 262x350;
  // 600/262 > 800/350 so w=262, h=round(800*262/600 + 1e-5) = round(349.33) = 349.
  const ops = planOperations(plan({ fit: "fit-in", width: 0, height: 350 }), 600, 800);
  t.deepEqual(ops.target, { width: 262, height: 349 });
  // 2x5 fit-in 1x3: 2/1 >= 5/3 so w=1, h=round(5*1/2 + 1e-5) = round(2.50001) = 3 (half-even would give 2).
  t.deepEqual(planOperations(plan({ fit: "fit-in", width: 1, height: 3 }), 2, 5).target, { width: 1, height: 3 });
});

test("zero-size result: 940x2 fit-in 134x134 computes h=0 and is clamped to 1 px", (t) => {
  const ops = planOperations(plan({ fit: "fit-in", width: 134, height: 134 }), 940, 2);
  t.deepEqual(ops.resize, { width: 134, height: 1 });
  t.deepEqual(ops.target, { width: 134, height: 1 });
});

test("orig keeps the source side; 0x0 keeps the size", (t) => {
  t.deepEqual(planOperations(plan({ width: "orig", height: 100 }), 300, 400).target, { width: 300, height: 100 });
  const none = planOperations(plan({}), 300, 400);
  t.deepEqual(none.steps, []);
  t.deepEqual(none.target, { width: 300, height: 400 });
});

test("smart crop keeps the box size but asks the pipeline to position it", (t) => {
  const ops = planOperations(plan({ width: 100, height: 100, smart: true }), 400, 200);
  t.true(ops.smartCrop);
  t.deepEqual([ops.autoCrop!.width, ops.autoCrop!.height], [200, 200]);
  t.false(planOperations(plan({ width: 200, height: 100, smart: true }), 400, 200).smartCrop, "no crop needed → nothing to position");
});

test("fill layout: request WxH, a side of 0 uses the image's, image centred with floor division", (t) => {
  t.deepEqual(fillLayout({ width: 200, height: 100 }, { width: 101, height: 50 }), {
    canvas: { width: 200, height: 100 },
    left: 49,
    top: 25,
  });
  t.deepEqual(fillLayout({ width: 0, height: 100 }, { width: 80, height: 50 }), { canvas: { width: 80, height: 100 }, left: 0, top: 25 });
  // fit-in raises the request to the resized size: full-fit-in 400x100 on 800x400 resizes to 400x200
  const ops = planOperations(plan({ fit: "full-fit-in", width: 400, height: 100 }), 800, 400);
  t.deepEqual(ops.request, { width: 400, height: 200 });
  const fitIn = planOperations(plan({ fit: "fit-in", width: 300, height: 300 }), 800, 400);
  t.deepEqual(fillLayout(fitIn.request, fitIn.target).canvas, { width: 300, height: 300 });
});

test("proportion(p) applies for 0 < p <= 1 only (thumbor test_proportion.py)", (t) => {
  t.deepEqual(proportionSize(300, 200, 0.5), { width: 150, height: 100 });
  t.is(proportionSize(300, 200, 10000), null);
  t.is(proportionSize(300, 200, 0), null);
  t.is(proportionSize(300, 200, -0.5), null);
  t.is(proportionSize(300, 200, 1), null);
  t.is(proportionSize(3, 2, 0.1), null, "under 1 px is ignored");
});

test("trimBox finds the box of pixels farther than tolerance from the corner pixel", (t) => {
  // 5x4 RGB, white with a dark 2x2 block at (1,1)
  const w = 5;
  const h = 4;
  const px = new Uint8Array(w * h * 3).fill(255);
  for (const [x, y] of [
    [1, 1],
    [2, 1],
    [1, 2],
    [2, 2],
  ] as const)
    px.set([10, 10, 10], (y * w + x) * 3);
  t.deepEqual(trimBox(px, w, h, 3, "top-left", 0), { left: 1, top: 1, width: 2, height: 2 });
  t.is(trimBox(px, w, h, 3, "top-left", 500), null, "nothing farther than the tolerance");
  px.set([10, 10, 10], (h * w - 1) * 3); // bottom-right dark: reference for bottom-right
  t.deepEqual(trimBox(px, w, h, 3, "bottom-right", 0), { left: 0, top: 0, width: 5, height: 4 });
});

test("meta document: source, operations, target and focal points", (t) => {
  const doc = metaDocument(plan({ width: 180, height: 100, flipHorizontal: true }), {
    url: "a.jpg",
    width: 200,
    height: 140,
    frameCount: 1,
  });
  t.deepEqual(doc, {
    thumbor: {
      source: { url: "a.jpg", width: 200, height: 140, frameCount: 1 },
      operations: [
        { type: "crop", left: 0, top: 14, right: 200, bottom: 125 },
        { type: "resize", width: 180, height: 100 },
        { type: "flip_horizontally" },
      ],
      target: { width: 180, height: 100 },
      focal_points: [{ x: 100, y: 70, z: 1, height: 1, width: 1, origin: "alignment" }],
    },
  });
  const zero = metaDocument(plan({}), { url: "g.jpg", width: 533, height: 800, frameCount: 1 });
  t.deepEqual(zero.thumbor.target, { width: 533, height: 800 });
  t.deepEqual(zero.thumbor.operations, []);
});

test("meta document lists trim as the first crop and computes on the trimmed size", (t) => {
  const doc = metaDocument(plan({ width: 50, height: 0 }), {
    url: "t.png",
    width: 300,
    height: 200,
    frameCount: 1,
    trimmed: { left: 10, top: 20, width: 100, height: 100 },
  });
  t.deepEqual(doc.thumbor.operations, [
    { type: "crop", left: 10, top: 20, right: 110, bottom: 120 },
    { type: "resize", width: 50, height: 50 },
  ]);
});

const filterSemantics = JSON.parse(readFileSync(join(__dirname, "..", "fixtures/thumbor-vectors/thumbor_filter_vectors.json"), "utf8"))
  .filter_semantics as any[];

for (const v of filterSemantics.filter((x) => x.filter === "no_upscale()")) {
  const c = v.context;
  test(`filter vector ${v.filter}: request ${c["request.width"]}x${c["request.height"]} on ${c["engine.size"].join("x")}`, (t) => {
    const ops = planOperations(
      plan({ width: c["request.width"], height: c["request.height"], filters: [{ name: "no_upscale", args: [] }] }),
      c["engine.size"][0],
      c["engine.size"][1],
    );
    t.deepEqual(ops.request, { width: v.expect["request.width"], height: v.expect["request.height"] });
    t.deepEqual(ops.target, { width: v.expect["request.width"], height: v.expect["request.height"] });
  });
}

for (const v of filterSemantics.filter((x) => String(x.filter).startsWith("proportion("))) {
  test(`filter vector ${v.filter}: size unchanged`, (t) => {
    const p = Number(/^proportion\((.*)\)$/.exec(v.filter)![1]);
    t.is(proportionSize(800, 533, p), null);
  });
}

for (const v of filterSemantics.filter((x) => String(x.filter).startsWith("focal("))) {
  test(`filter vector ${v.filter}`, (t) => {
    const arg = /^focal\((.*)\)$/.exec(v.filter)![1];
    const point = parseFocalBox(arg === "" ? undefined : arg);
    const expected = v.expect["focal_points[0]"];
    if (expected) t.like(point, { x: expected.x, y: expected.y, width: expected.width, height: expected.height, origin: expected.origin });
    else t.is(point, null, "image unchanged: no focal point");
  });
}

test("fit-in without a resize keeps a requested 0 side as 0, so fill uses the image's side", (t) => {
  // 100x50 fit-in 0x200: the box (400x200) holds the image, nothing is resized.
  const ops = planOperations(plan({ fit: "fit-in", width: 0, height: 200 }), 100, 50);
  t.is(ops.resize, null);
  t.deepEqual(ops.request, { width: 0, height: 200 });
  t.deepEqual(fillLayout(ops.request, ops.target), { canvas: { width: 100, height: 200 }, left: 0, top: 75 });
  // with a resize, a 0 side becomes the resized side (max(0, resized))
  const resized = planOperations(plan({ fit: "fit-in", width: 0, height: 20 }), 100, 50);
  t.deepEqual(resized.request, { width: 40, height: 20 });
});
