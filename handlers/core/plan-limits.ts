/**
 * The limits every plan must respect. viewer-request checks them to refuse early; origin-response
 * checks them again on the plan it decodes from the key, so a forged key never gets past them.
 */
import { refusal } from "./errors.js";
import type { TransformPlan } from "./plan.js";
import type { Settings } from "./settings.js";

/** Filters in one URL. thumbor has no limit; a 1024-byte key could otherwise chain dozens. */
export const MAX_FILTERS = 12;

/**
 * Neighbourhood filters cost time in proportion to pixels × kernel size (ten blur(20) on a
 * 4096×4096 output take about 11 s); a few of them per variant keep a miss inside Lambda@Edge's 30 s.
 */
export const COSTLY_FILTERS: ReadonlySet<string> = new Set(["blur", "sharpen", "convolution"]);
export const MAX_COSTLY_FILTERS = 3;

export function checkPlanLimits(plan: TransformPlan, settings: Pick<Settings, "maxWidth" | "maxHeight">): void {
  // Requested sides beyond the maximum are refused outright (thumbor would clamp; a clear 400 is safer).
  if (typeof plan.width === "number" && plan.width > settings.maxWidth) {
    throw refusal(400, `width ${plan.width} exceeds the maximum ${settings.maxWidth}`);
  }
  if (typeof plan.height === "number" && plan.height > settings.maxHeight) {
    throw refusal(400, `height ${plan.height} exceeds the maximum ${settings.maxHeight}`);
  }
  if (plan.filters.length > MAX_FILTERS) {
    throw refusal(400, `${plan.filters.length} filters, the limit is ${MAX_FILTERS}`);
  }
  const costly = plan.filters.filter((f) => COSTLY_FILTERS.has(f.name)).length;
  if (costly > MAX_COSTLY_FILTERS) {
    throw refusal(400, `${costly} blur/sharpen/convolution filters, the limit is ${MAX_COSTLY_FILTERS}`);
  }
}
