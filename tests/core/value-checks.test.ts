/**
 * The shared checks behind settings.ts and the ImageResizer arguments: every message has the
 * shape `<where>: <path> must be <what>, got <value>`, with the caller's error class and
 * value display.
 */
import test from "ava";
import { valueChecks } from "../../handlers/core/value-checks.js";

const checks = valueChecks("stack");

test("a value that fits is returned as it is", (t) => {
  t.is(checks.integer("n", 5, 1, 10), 5);
  t.is(checks.boolean("b", false), false);
  t.is(checks.string("s", "", true), "");
  t.deepEqual(checks.stringList("l", ["a", "b"]), ["a", "b"]);
  t.is(checks.matching("m", "abc", /^[a-z]+$/, "letters"), "abc");
  t.is(checks.oneOf("o", "b", ["a", "b"] as const), "b");
});

test("each check names the path, what it must be and the value it got", (t) => {
  const cases: [() => unknown, string][] = [
    [() => checks.integer("n", 11, 1, 10), "stack: n must be an integer from 1 to 10, got 11"],
    [() => checks.integer("n", 1.5, 1, 10), "stack: n must be an integer from 1 to 10, got 1.5"],
    [() => checks.boolean("b", "yes"), 'stack: b must be true or false, got "yes"'],
    [() => checks.string("s", "", false), 'stack: s must be a non-empty string, got ""'],
    [() => checks.string("s", 3, true), "stack: s must be a string, got 3"],
    [() => checks.stringList("l", ["a", 1]), 'stack: l must be an array of strings, got ["a",1]'],
    [() => checks.matching("m", "ABC", /^[a-z]+$/, "lower-case letters"), 'stack: m must be lower-case letters, got "ABC"'],
    [() => checks.matching("m", 7, /^[a-z]+$/, "lower-case letters"), "stack: m must be lower-case letters, got 7"],
    [() => checks.oneOf("o", "c", ["a", "b"]), 'stack: o must be one of "a", "b", got "c"'],
  ];
  for (const [check, message] of cases) t.throws(check, { instanceOf: Error, message });
});

test("the caller chooses the error class and how a value is shown", (t) => {
  class ConfigError extends Error {}
  const secretive = valueChecks("settings.json", { error: (m) => new ConfigError(m), show: (path) => `(${path} not shown)` });
  t.throws(() => secretive.string("key", 42, true), {
    instanceOf: ConfigError,
    message: "settings.json: key must be a string, got (key not shown)",
  });
});
