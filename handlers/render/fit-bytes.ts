/**
 * thumbor's `max_bytes`: which renders it applies to, and its search: lower the quality by x0.75
 * steps (not below 10) until the encoded file fits, then climb back by x1.1 steps while it still
 * fits. The search is pure, over an encoder callback.
 */
import { formatCan } from "../core/formats.js";
import { filterCalls } from "../core/plan-queries.js";
import { asNumber } from "./common/filter-args.js";
import type { RenderContext } from "./context.js";

/** The plan's last `max_bytes` when positive and the output format's quality search applies (as in thumbor: JPEG and WebP), else null. */
export function maxBytesFor(ctx: Pick<RenderContext, "plan" | "outputFormat">): number | null {
  const call = filterCalls(ctx.plan, "max_bytes").at(-1);
  const maxBytes = call ? asNumber(call.args[0]) : null;
  return maxBytes !== null && maxBytes > 0 && formatCan(ctx.outputFormat, "max-bytes") ? maxBytes : null;
}

export async function fitToMaxBytes<T extends { data: { length: number } }>(
  encodeAt: (quality: number) => Promise<T>,
  quality: number,
  maxBytes: number,
): Promise<T> {
  let result = await encodeAt(quality);
  if (result.data.length <= maxBytes) return result;
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
    q = up;
  }
  return result;
}
