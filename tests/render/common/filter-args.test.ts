/** Filter arguments are read by one module (render/common/filter-args.ts): strict readers for effects, lenient ones for the pipeline. */
import test from "ava";
import { asBoolean, asNumber, booleanArg, numberArg } from "../../../handlers/render/common/filter-args.js";

test("argument readers: strict ones refuse with a 400 naming the filter, lenient ones fall back", (t) => {
  t.is(numberArg("blur", [" 2.5 "], 0), 2.5);
  t.is(booleanArg("fill", ["True"], 0), true);
  t.is(booleanArg("fill", [], 0, false), false);
  t.throws(() => numberArg("blur", ["x"], 0), { message: "blur: argument 1 must be a number" });
  t.throws(() => booleanArg("fill", ["yes"], 0), { message: "fill: argument 1 must be true or false" });
  t.throws(() => numberArg("blur", [], 0), { message: "blur: argument 1 is missing" });
  t.is(asBoolean(undefined, true), true);
  t.is(asBoolean("False", true), false);
  t.is(asBoolean(0, true), false);
  t.is(asBoolean("not a boolean", true), true);
  t.is(asNumber(12), 12);
  t.is(asNumber("3"), 3);
  t.is(asNumber(undefined), null);
  t.is(asNumber(true), null);
  t.is(asNumber("1e3"), null);
});
