/**
 * Checks the effect tests share (tests/render/effects/).
 *
 * Thresholds: an error of one level on every sample is 48.1 dB, so "≥ 48 dB and never more
 * than one level off" is what sharp's rounding (where thumbor truncates) can cost; exact
 * reimplementations must match exactly. "Changed" means below 35 dB against the input: a
 * visible change (JPEG at quality 75 is typically 35–40 dB from its source).
 */
import { renderVariant } from "../../handlers/render/pipeline.js";
import type { TransformPlan } from "../../handlers/core/plan.js";
import { decode, type Pixels } from "./effect-harness.js";
import { plan, settings } from "./images.js";
import { psnr } from "./psnr.js";

export const CHANGED_BELOW_DB = 35;

export function assertChanged(t: import("ava").ExecutionContext, got: Pixels, input: Pixels) {
  const db = psnr(got.data, input.data);
  t.true(db < CHANGED_BELOW_DB, `only ${db.toFixed(1)} dB from the input: the effect did not visibly change the photo`);
}

/** One pixel's samples. */
export const pixel = (p: Pixels, x: number, y: number) => [
  ...p.data.subarray((y * p.width + x) * p.channels, (y * p.width + x + 1) * p.channels),
];

/** Mean absolute difference between horizontally adjacent samples: a measure of fine detail. */
export function detail(p: Pixels): number {
  let sum = 0;
  for (let y = 0; y < p.height; y++)
    for (let x = 1; x < p.width; x++)
      for (let c = 0; c < 3; c++) {
        sum += Math.abs(p.data[(y * p.width + x) * p.channels + c] - p.data[(y * p.width + x - 1) * p.channels + c]);
      }
  return sum / (p.height * (p.width - 1) * 3);
}

/** Renders the plan through the pipeline and decodes the variant. */
export async function render(original: Buffer, over: Partial<TransformPlan>) {
  return decode((await renderVariant({ plan: plan(over), original, settings })).body);
}
