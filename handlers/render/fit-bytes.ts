/**
 * thumbor's `max_bytes` search: the highest quality of thumbor's ladder whose file fits, in the
 * order core/max-bytes.ts gives (at most 8 encodes from quality 100; 3 when no quality fits);
 * which renders it applies to is `maxBytesOf` there. Pure search over an encoder callback.
 */
import { maxBytesSearch } from "../core/max-bytes.js";

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
