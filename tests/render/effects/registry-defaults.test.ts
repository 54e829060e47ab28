/**
 * A filter's defaults live in the registry (core/filter-registry.ts) and nowhere else: every
 * effect with an optional argument must give the same pixels when the argument is left out as
 * when the registry's default is written out. An effect that carried a fallback of its own
 * (`args[1] ?? 5`) would differ, or, when the two agree today, be caught by the scan below for
 * arguments read around the readers of render/common/filter-args.ts.
 */
import test from "ava";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EFFECT_FILTERS, THUMBOR_FILTERS, type FilterName } from "../../../handlers/core/filter-registry.js";
import type { FilterArg } from "../../../handlers/core/plan.js";
import { numberArg } from "../../../handlers/render/common/filter-args.js";
import { perFrame } from "../../../handlers/render/common/raw.js";
import { POST_FILTER_EFFECTS, type PostFilterEffect } from "../../../handlers/render/effects/index.js";
import { FIXTURES, context, photo, runEffect, type Pixels } from "../../helpers/effect-harness.js";

const MARK = readFileSync(join(FIXTURES, "images", "thumbor-watermark.png"));
const ctx = context({ loadObject: async (key) => (key === "mark.png" ? MARK : null) });

/** The required arguments of every effect that has optional ones. */
const REQUIRED: Partial<Record<FilterName, FilterArg[]>> = {
  blur: [3],
  convolution: ["1;2;1;2;4;2;1;2;1", 3],
  fill: ["red"],
  noise: [20],
  round_corner: ["12", 255, 0, 0],
  watermark: ["mark.png", 10, 10, 30],
};

const withDefaults = [...EFFECT_FILTERS].filter((name) => THUMBOR_FILTERS[name as FilterName].params.some((p) => p.default !== undefined));

/** Each way of leaving trailing optional arguments out, beside the call with every default written out. */
function spellings(name: FilterName, required: FilterArg[]): [FilterArg[], FilterArg[]][] {
  const all = THUMBOR_FILTERS[name].params.length;
  const explicit = required.concat(defaultsFrom(name, required.length, all));
  return Array.from({ length: all - required.length }, (_, i) => [
    required.concat(defaultsFrom(name, required.length, required.length + i)),
    explicit,
  ]);
}

function defaultsFrom(name: FilterName, from: number, to: number): FilterArg[] {
  return THUMBOR_FILTERS[name].params.slice(from, to).map((p) => p.default!);
}

async function sameWithAndWithoutDefaults(
  effect: PostFilterEffect,
  name: FilterName,
  required: FilterArg[],
  input: Pixels,
): Promise<string[]> {
  const differences: string[] = [];
  for (const [short, explicit] of spellings(name, required)) {
    const a = await runEffect(effect, input, short, ctx);
    const b = await runEffect(effect, input, explicit, ctx);
    if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels || !Buffer.from(a.data).equals(Buffer.from(b.data)))
      differences.push(`${name}(${short.join(",")}) differs from ${name}(${explicit.join(",")})`);
  }
  return differences;
}

test("every effect with optional arguments has required ones to try here", (t) => {
  t.deepEqual(
    withDefaults.filter((name) => !(name in REQUIRED)),
    [],
  );
  t.true(withDefaults.length >= 6, withDefaults.join(", "));
  for (const [name, required] of Object.entries(REQUIRED)) {
    const params = THUMBOR_FILTERS[name as FilterName].params;
    t.true(
      params.slice(0, required.length).every((p) => p.default === undefined),
      `${name}: only the required arguments`,
    );
    t.true(
      params.slice(required.length).every((p) => p.default !== undefined),
      `${name}: every other one has a default`,
    );
  }
});

for (const [name, required] of Object.entries(REQUIRED) as [FilterName, FilterArg[]][]) {
  test(`${name}: leaving an optional argument out is writing the registry's default`, async (t) => {
    const input = await photo();
    t.deepEqual(await sameWithAndWithoutDefaults(POST_FILTER_EFFECTS[name]!, name, required, input), []);
  });
}

test("the comparison catches an effect that carries its own default", async (t) => {
  // blur's sigma defaults to 0 in the registry; this effect falls back to 2 instead.
  const ownDefault = perFrame(async (frame, args) => {
    const sigma = args[1] === undefined ? 2 : numberArg("blur", args, 1);
    return { ...frame, data: Buffer.from(frame.data.map((v) => Math.min(255, v + sigma))) };
  });
  const input = await photo();
  t.deepEqual(await sameWithAndWithoutDefaults(ownDefault, "blur", [3], input), ["blur(3) differs from blur(3,0)"]);
});

test("effects read their arguments only through render/common/filter-args.ts (which takes defaults from the registry)", (t) => {
  const dir = join(__dirname, "..", "..", "..", "handlers", "render", "effects");
  const offenders = readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .flatMap((f) =>
      readFileSync(join(dir, f), "utf8")
        .split("\n")
        .flatMap((line, i) =>
          /\bargs\[|\bargs\.at\(|\.\.\.args\b|\bargs\.(?:length|slice)\b/.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [],
        ),
    );
  t.deepEqual(offenders, []);
});
