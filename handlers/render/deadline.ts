/**
 * The render's deadline. The budget (core/render-budget.ts) refuses what the estimate finds too
 * costly; the deadline stops what the estimate missed (an original slower to decode than its
 * size says, a busy machine) while the function is still running to answer itself. It is
 * checked between the render's steps, between the frames and cells of the effects that loop in
 * JavaScript, and given to sharp as its timeout (whole seconds) on the pipelines that decode,
 * resize and encode. The answer is not "storage unavailable": a repeat would cost as much, so it
 * is a 422 cached as long as a budget refusal (budgetErrorCacheControl).
 */
import type { Sharp } from "sharp";
import { RequestError } from "../core/errors.js";

/** The time a render has left; a test injects one that runs out after a number of checks. */
export interface RenderDeadline {
  /** Milliseconds left (0 or less: passed). */
  remainingMs(): number;
}

/** A deadline `ms` from now. */
export function deadlineIn(ms: number): RenderDeadline {
  const at = Date.now() + ms;
  return { remainingMs: () => at - Date.now() };
}

export const PAST_DEADLINE_REASON = "too costly to render: the render ran past its time limit";

export function pastDeadline(): RequestError {
  return new RequestError(422, PAST_DEADLINE_REASON, "long");
}

/** Throws the deadline's answer when it has passed (no deadline: never). */
export function checkDeadline(deadline: RenderDeadline | undefined): void {
  if (deadline && deadline.remainingMs() <= 0) throw pastDeadline();
}

/** The pipeline with sharp's timeout at the time left, rounded up to a whole second (sharp's unit; 0 would mean none). */
export function withDeadline(image: Sharp, deadline: RenderDeadline | undefined): Sharp {
  if (!deadline) return image;
  checkDeadline(deadline);
  return image.timeout({ seconds: Math.min(3600, Math.max(1, Math.ceil(deadline.remainingMs() / 1000))) });
}

/** libvips' error when sharp's timeout stops a pipeline ("timeout: 42% complete"). */
export function isSharpTimeout(err: unknown): boolean {
  return err instanceof Error && /^timeout: \d+% complete/.test(err.message);
}
