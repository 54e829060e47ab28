import test from "ava";
import { PIXEL_TOLERANCE, pixelMismatch } from "./assert-pixel.js";

test("pixelMismatch accepts every channel within the tolerance, bounds included", (t) => {
  t.is(pixelMismatch([255, 0, 0, 255], [255, 0, 0, 255]), null);
  t.is(pixelMismatch([215, 40, 0, 255], [255, 0, 0, 255]), null, "40 off is still within the default");
  t.is(pixelMismatch([250, 5, 0], [255, 0, 0], 5), null);
  t.is(PIXEL_TOLERANCE, 40);
});

test("pixelMismatch names the actual and expected values and the channels that are off", (t) => {
  t.is(
    pixelMismatch([200, 0, 60, 255], [255, 0, 0, 255]),
    "pixel [200, 0, 60, 255], expected [255, 0, 0, 255] ± 40 (channel 0 off by 55, channel 2 off by 60)",
  );
  t.is(pixelMismatch([249, 0, 0], [255, 0, 0], 5), "pixel [249, 0, 0], expected [255, 0, 0] ± 5 (channel 0 off by 6)");
});

test("only the expected channels are compared (an RGB expectation ignores alpha); a missing channel is a mismatch", (t) => {
  t.is(pixelMismatch([255, 0, 0, 0], [255, 0, 0]), null);
  t.not(pixelMismatch([255, 0], [255, 0, 0]), null);
});
