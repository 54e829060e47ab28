/** Filter arguments are read by one module (render/common/filter-args.ts): strict readers for effects, lenient ones for the pipeline. */
import test from "ava";
import { THUMBOR_FILTERS } from "../../../handlers/core/filter-registry.js";
import {
  argOrDefault,
  asNumber,
  booleanArg,
  lenientBooleanArg,
  numberArg,
  stringArg,
} from "../../../handlers/render/common/filter-args.js";

test("argument readers: strict ones refuse with a 400 naming the filter, lenient ones fall back", (t) => {
  t.is(numberArg("blur", [" 2.5 "], 0), 2.5);
  t.is(booleanArg("fill", ["True"], 0), true);
  t.throws(() => numberArg("blur", ["x"], 0), { message: "blur: argument 1 must be a number" });
  t.throws(() => booleanArg("fill", ["yes"], 0), { message: "fill: argument 1 must be true or false" });
  t.throws(() => numberArg("blur", [], 0), { message: "blur: argument 1 is missing" });
  t.is(lenientBooleanArg("autojpg", [], 0), true);
  t.is(lenientBooleanArg("autojpg", ["False"], 0), false);
  t.is(lenientBooleanArg("autojpg", [0], 0), false);
  t.is(lenientBooleanArg("autojpg", ["not a boolean"], 0), true);
  t.is(asNumber(12), 12);
  t.is(asNumber("3"), 3);
  t.is(asNumber(undefined), null);
  t.is(asNumber(true), null);
  t.is(asNumber("1e3"), null);
});

test("an absent argument takes the registry's default, and only that: the readers take no fallback of their own", (t) => {
  t.is<unknown, unknown>(numberArg("blur", [3], 1), THUMBOR_FILTERS.blur.params[1]!.default);
  t.is<unknown, unknown>(numberArg("blur", [3, ""], 1), THUMBOR_FILTERS.blur.params[1]!.default, "an empty text counts as absent");
  t.is<unknown, unknown>(booleanArg("fill", ["red"], 1), THUMBOR_FILTERS.fill.params[1]!.default);
  t.is<unknown, unknown>(booleanArg("convolution", ["1", 1], 2), THUMBOR_FILTERS.convolution.params[2]!.default);
  t.is<unknown, unknown>(stringArg("watermark", ["m.png", 0, 0, 0], 4), THUMBOR_FILTERS.watermark.params[4]!.default);
  t.is(argOrDefault("watermark", ["m.png", 0, 0, 0, 20], 5), "none");
  t.is(argOrDefault("watermark", ["m.png", 0, 0, 0, 20], 4), 20, "a given argument wins");
  // No default in the registry: absent is missing, whatever the type.
  t.throws(() => stringArg("fill", [], 0), { message: "fill: argument 1 is missing" });
  t.throws(() => booleanArg("sharpen", [1, 1], 2), { message: "sharpen: argument 3 is missing" });
  t.is(argOrDefault("sharpen", [1, 1], 2), undefined);
  t.throws(() => lenientBooleanArg("sharpen", [1, 1], 2), { message: /no boolean default in the registry/ });
});
