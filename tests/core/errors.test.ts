/** Reasons and log lines quote the caller's text through one clipper (core/errors.ts clipText). */
import test from "ava";
import { clipText, refusal } from "../../handlers/core/errors.js";

test("clipText keeps text up to the limit and marks a cut", (t) => {
  t.is(clipText("abcdef", 6), "abcdef");
  t.is(clipText("abcdefg", 6), "abcdef...");
  t.is(clipText("abcdefg", 3, "…"), "abc…");
  t.is(clipText("", 0), "");
});

test("a refusal carries its status and reason", (t) => {
  const err = refusal(400, "bad");
  t.is(err.status, 400);
  t.is(err.reason, "bad");
});
