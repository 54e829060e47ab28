/**
 * The render budget re-checked by the render from the original's header, before any decode:
 * what the URL left open (the output's size, the frames kept, the output format) is counted.
 */
import test from "ava";
import { RequestError } from "../../handlers/core/errors.js";
import { renderVariant } from "../../handlers/render/pipeline.js";
import { plan, settings } from "../helpers/images.js";

/** A GIF of `frames` frames on a width x height screen, each frame one pixel: tiny file, large header. */
function sparseGif(width: number, height: number, frames: number): Buffer {
  const u16 = (n: number) => [n & 255, n >> 8];
  const bytes = [...Buffer.from("GIF89a"), ...u16(width), ...u16(height), 0x80, 0, 0, 0, 0, 0, 255, 255, 255];
  bytes.push(0x21, 0xff, 0x0b, ...Buffer.from("NETSCAPE2.0"), 3, 1, 0, 0, 0);
  // Per frame: a graphic control extension, a 1x1 image at 0,0, its LZW data (clear, pixel 0, end).
  for (let i = 0; i < frames; i++) bytes.push(0x21, 0xf9, 4, 0, 10, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0);
  bytes.push(0x3b);
  return Buffer.from(bytes);
}

test("a 200-frame 610x610 GIF kept animated with format(gif) is refused from its header: 400 too costly, long lifetime", async (t) => {
  const original = sparseGif(610, 610, 200);
  const err = await t.throwsAsync(renderVariant({ plan: plan({ format: "gif" }), original, settings }), { instanceOf: RequestError });
  t.is(err.status, 400);
  t.regex(err.reason, /^too costly to render: about \d+ ms of work \(encode: \d+ ms\), the budget is 8000 ms$/);
  t.is(err.lifetime, "long");
});

test("the same GIF renders when only its first frame is kept (JPEG out) or it has few frames", async (t) => {
  const still = await renderVariant({
    plan: plan({ format: "jpeg", width: 100, height: 100 }),
    original: sparseGif(610, 610, 200),
    settings,
  });
  t.is(still.format, "jpeg");
  const short = await renderVariant({ plan: plan({ format: "gif" }), original: sparseGif(61, 61, 5), settings });
  t.is(short.format, "gif");
});
