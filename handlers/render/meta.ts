/** thumbor's `meta` answer: the JSON document built from the same geometry the render executes. */
import type { TransformPlan } from "../core/plan.js";
import { planOperations, type Region, type ThumborOperation } from "./geometry.js";

export interface MetaSource {
  url: string;
  width: number;
  height: number;
  frameCount: number;
  /** The box trim kept, in oriented source pixels (thumbor lists it as the first crop). */
  trimmed?: Region | null;
}

/**
 * thumbor's meta JSON document (thumbor's `meta` URL option): the source, the engine calls, the target size and
 * the focal points. `source.width/height` are the oriented size (we always auto-orient, as
 * thumbor with RESPECT_ORIENTATION). Post-transform filters are not part of it, as in thumbor.
 */
export function metaDocument(plan: TransformPlan, source: MetaSource): { thumbor: Record<string, unknown> } {
  const trimmed = source.trimmed ?? null;
  const w = trimmed ? trimmed.width : source.width;
  const h = trimmed ? trimmed.height : source.height;
  const ops = planOperations(plan, w, h, trimmed ? { left: trimmed.left, top: trimmed.top } : undefined);
  const operations: ThumborOperation[] = [];
  if (trimmed)
    operations.push({
      type: "crop",
      left: trimmed.left,
      top: trimmed.top,
      right: trimmed.left + trimmed.width,
      bottom: trimmed.top + trimmed.height,
    });
  operations.push(...ops.steps);
  return {
    thumbor: {
      source: { url: source.url, width: source.width, height: source.height, frameCount: source.frameCount },
      operations,
      target: { width: ops.target.width, height: ops.target.height },
      focal_points: ops.focalPoints.map((p) => ({ x: p.x, y: p.y, z: p.weight, height: p.height, width: p.width, origin: p.origin })),
    },
  };
}
