/** sharp/libvips failures as the viewer sees them: a 400 with a short reason. */
import { RequestError } from "../../core/errors.js";
import { isSharpTimeout, pastDeadline } from "../deadline.js";

/** First line of a sharp/libvips error: enough to say why, nothing about our internals. */
export function shortReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split("\n")[0] ?? "").replace(/^[^:]*\/[^:]*: /, "").slice(0, 120);
}

/**
 * Runs sharp, turning its failures into a 400. The header was readable and of an accepted
 * format, so a libvips error from here on is the original's pixel data that cannot be decoded
 * (a corrupt body, an HEVC-coded HEIC without a decoder: libvips then says "Unknown error").
 * Programming errors (TypeError and friends) are not sharp's and stay 500s; sharp's timeout is
 * the render deadline's (deadline.ts).
 */
export async function run<T>(what: Promise<T>): Promise<T> {
  try {
    return await what;
  } catch (err) {
    if (err instanceof RequestError) throw err;
    if (isSharpTimeout(err)) throw pastDeadline();
    if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || !(err instanceof Error)) throw err;
    throw new RequestError(400, `not a supported image: ${shortReason(err)}`);
  }
}
