/**
 * The render deadline's pieces (render/deadline.ts): sharp's timeout is set from the time left
 * and its libvips error becomes the deadline's 422; a passed deadline stops the next step.
 */
import test from "ava";
import sharp from "sharp";
import { RequestError } from "../../handlers/core/errors.js";
import { PAST_DEADLINE_REASON, checkDeadline, deadlineIn, withDeadline } from "../../handlers/render/deadline.js";
import { run } from "../../handlers/render/common/sharp-errors.js";

const timeoutOf = (image: sharp.Sharp) => (image as unknown as { options: { timeoutSeconds: number } }).options.timeoutSeconds;

test("withDeadline gives sharp the time left in whole seconds, rounded up, at least 1", (t) => {
  const image = () => sharp({ create: { width: 4, height: 4, channels: 3, background: "#000" } });
  t.is(timeoutOf(withDeadline(image(), { remainingMs: () => 2_500 })), 3);
  t.is(timeoutOf(withDeadline(image(), { remainingMs: () => 10 })), 1);
  t.is(timeoutOf(withDeadline(image(), undefined)), 0, "no deadline: sharp's default, no timeout");
});

test("a passed deadline throws the 422 too costly to render with the long lifetime", (t) => {
  const err = t.throws(() => checkDeadline(deadlineIn(-1)), { instanceOf: RequestError });
  t.is(err.status, 422);
  t.is(err.reason, PAST_DEADLINE_REASON);
  t.is(err.lifetime, "long");
  t.notThrows(() => checkDeadline(deadlineIn(60_000)));
  t.notThrows(() => checkDeadline(undefined));
  t.throws(() => withDeadline(sharp(), { remainingMs: () => 0 }), { instanceOf: RequestError });
});

test("sharp's timeout error is the deadline's answer, not a 400 not a supported image", async (t) => {
  const err = await t.throwsAsync(run(Promise.reject(new Error("timeout: 42% complete"))), { instanceOf: RequestError });
  t.is(err.status, 422);
  t.is(err.lifetime, "long");
  const other = await t.throwsAsync(run(Promise.reject(new Error("VipsJpeg: Premature end of input file"))), { instanceOf: RequestError });
  t.is(other.status, 400);
});
