/**
 * The limits every plan must respect. viewer-request checks them to refuse early; origin-response
 * checks them again on the plan it decodes from the key, so a forged key never gets past them.
 */
import { refusal } from "./errors.js";
import { COSTLY_FILTERS } from "./filter-registry.js";
import type { TransformPlan } from "./plan.js";
import { checkRenderBudget, type BudgetSettings } from "./render-budget.js";

/** Filters in one URL. thumbor has no limit; a 1024-byte key could otherwise chain dozens. */
export const MAX_FILTERS = 12;

/**
 * Neighbourhood filters (the registry's costly ones) cost time in proportion to pixels × kernel
 * size (docs/encoder-tuning.md); a few of them per variant keep a miss inside Lambda@Edge's 30 s.
 */
export const MAX_COSTLY_FILTERS = 3;
const COSTLY_NAMES = [...COSTLY_FILTERS].join("/");

/** blur()'s radius cap (thumbor's), written where the variant key applies it. */
export { MAX_BLUR_RADIUS } from "./filter-key-rules.js";

/**
 * Kernel taps × pixels per frame above which blur() gives way to libvips' approximate Gaussian
 * (render/effects/blur.ts); the audit (cli/approximations.ts) flags URLs that may cross it.
 */
export const EXACT_BLUR_BUDGET = 60_000_000;

/** The limits, the render budget last (at its worst case: any original up to maxInputPixels). */
export function checkPlanLimits(plan: TransformPlan, settings: BudgetSettings): void {
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
    throw refusal(400, `${costly} ${COSTLY_NAMES} filters, the limit is ${MAX_COSTLY_FILTERS}`);
  }
  checkRenderBudget(plan, settings);
}
