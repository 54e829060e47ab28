/**
 * thumbor's `max_bytes`: which renders it applies to, and its search: the highest quality of
 * thumbor's ladder whose file fits, in the order core/max-bytes.ts gives (at most 8 encodes from
 * quality 100; 3 when no quality fits). Pure search over an encoder callback.
 */
import { formatCan } from "../core/formats.js";
import { maxBytesSearch } from "../core/max-bytes.js";
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
  const search = maxBytesSearch(quality);
  // Each file that fits is at a higher quality than the one before; none fitting leaves the floor's.
  let answer: T | undefined;
  let last: T | undefined;
  for (let q = search.next(); q !== undefined; q = search.next()) {
    last = await encodeAt(q);
    const fits = last.data.length <= maxBytes;
    if (fits) answer = last;
    search.report(fits);
  }
  return answer ?? last!;
}
