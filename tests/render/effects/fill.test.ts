/**
 * fill, rendered through the pipeline and compared with thumbor's arithmetic
 * (tests/helpers/reference.ts): fill(auto)'s colour.
 */
import test from "ava";
import { render } from "../../helpers/effect-checks.js";
import { fixture } from "../../helpers/images.js";
import * as ref from "../../helpers/reference.js";

test("fill(auto) with fit-in paints thumbor's colour: the integer mean of the resized image, not its median", async (t) => {
  const photo = fixture("raindrops-480.jpg");
  const fitted = await render(photo, { format: "png", fit: "fit-in", width: 300, height: 300 });
  const filled = await render(photo, {
    format: "png",
    fit: "fit-in",
    width: 300,
    height: 300,
    filters: [{ name: "fill", args: ["auto"] }],
  });
  t.deepEqual([filled.width, filled.height], [300, 300]);
  const top = Math.floor((300 - fitted.height) / 2);
  t.true(top > 0, "the photo is letterboxed");
  const want = ref.refAutoFillColour(fitted);
  const at = (y: number) => [...filled.data.subarray(y * 300 * filled.channels, y * 300 * filled.channels + 3)];
  t.deepEqual(at(0), want, "band above the photo");
  t.deepEqual(at(299), want, "band below the photo");
  const middle = filled.data.subarray(top * 300 * filled.channels, (top + fitted.height) * 300 * filled.channels);
  t.deepEqual(Buffer.from(middle), Buffer.from(fitted.data), "the photo itself is untouched");
});
