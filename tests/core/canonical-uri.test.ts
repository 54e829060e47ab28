/**
 * One object, one spelling: uriToKey decodes as S3 does, keyToUri writes the one canonical
 * spelling, canonicalKeyOf refuses every other spelling of a key.
 */
import test from "ava";
import fc from "fast-check";
import { canonicalKeyOf, hasDotSegment, keyToUri, uriToKey } from "../../handlers/core/canonical-uri.js";
import { RequestError } from "../../handlers/core/errors.js";

function refusalOf(fn: () => unknown): RequestError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RequestError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

test("S3's reading of a path: decoded once, '+' is a space, '%2F' a slash, '%2520' stays '%20'", (t) => {
  t.is(uriToKey("/samples/%74wo-wings.jpg"), "samples/two-wings.jpg");
  t.is(uriToKey("/variants%2Fsamples/a.jpg"), "variants/samples/a.jpg");
  t.is(uriToKey("/a+b.jpg"), "a b.jpg");
  t.is(uriToKey("/a%2Bb.jpg"), "a+b.jpg");
  t.is(uriToKey("/my%2520pic.jpg"), "my%20pic.jpg");
  t.is(uriToKey("/caf%c3%a9.jpg"), "café.jpg");
});

test("malformed escapes and bytes that are not UTF-8 are a 400, never a throw of another kind", (t) => {
  for (const uri of ["/a%.jpg", "/a%zz.jpg", "/a%2.jpg", "/a%FF.jpg", "/a%C3.jpg", "/%ED%A0%80.jpg"]) {
    t.is(refusalOf(() => uriToKey(uri)).status, 400, uri);
  }
});

test("the canonical spelling keeps sub-delimiters raw and escapes '+', '*', '~', '%', space and non-ASCII", (t) => {
  t.is(keyToUri("variants/a.jpg/300x200,q80.webp"), "/variants/a.jpg/300x200,q80.webp");
  t.is(keyToUri("a:b=c&d@e;f$g!h'i(j)k_m-n.o"), "/a:b=c&d@e;f$g!h'i(j)k_m-n.o");
  t.is(keyToUri("x/~1,fill('~2C)"), "/x/%7E1,fill('%7E2C)");
  t.is(keyToUri("a+b*c%d e?f#g"), "/a%2Bb%2Ac%25d%20e%3Ff%23g");
  t.is(keyToUri("café/漢.jpg"), "/caf%C3%A9/%E6%BC%A2.jpg");
});

test("a key with a lone surrogate has no spelling: a 400, not a URIError", (t) => {
  t.is(refusalOf(() => keyToUri("a\uD800.jpg")).status, 400);
  t.is(refusalOf(() => canonicalKeyOf("/a\uD800.jpg")).status, 400);
});

test("every other spelling of a key is refused and the reason names the canonical one", (t) => {
  const hostile = [
    "/%76ariants/samples/elephants.jpg/300x200,q80.webp",
    "/variants%2Fsamples/elephants.jpg/300x200,q80.webp",
    "/samples/%74wo-wings.jpg",
    "/samples/two-wings%2Ejpg",
    "/samples/two-wings.jpg%2C",
    "/variants/samples/elephants.jpg/300x200%2Cq80.webp",
    "/caf%c3%a9.jpg",
    "/café.jpg",
    "/a+b.jpg",
    "/x/%2e%2e/samples/two-wings.jpg",
  ];
  for (const uri of hostile) {
    const err = refusalOf(() => canonicalKeyOf(uri));
    t.is(err.status, 400, uri);
    t.true(err.reason.endsWith(keyToUri(uriToKey(uri))), `${uri}: ${err.reason}`);
  }
  t.is(canonicalKeyOf("/samples/two-wings.jpg"), "samples/two-wings.jpg");
  t.is(canonicalKeyOf("/a%20b.jpg"), "a b.jpg");
});

test("NUL and control bytes, raw or percent-encoded, are a 400", (t) => {
  for (const uri of ["/a%00.jpg", "/a\u0000.jpg", "/a%0A.jpg", "/a%7F.jpg", "/a%C2%85.jpg", "/a\t.jpg"]) {
    t.regex(refusalOf(() => canonicalKeyOf(uri)).reason, /control character/, uri);
  }
});

test("dot segments are found as S3 would keep them", (t) => {
  t.true(hasDotSegment("x/../a.jpg"));
  t.true(hasDotSegment("./a.jpg"));
  t.true(hasDotSegment("a/.."));
  t.false(hasDotSegment("a/..b/.c/x.jpg"));
});

test("for any key: the canonical spelling reads back as the key, and any re-spelling that is not it is refused", (t) => {
  const key = fc
    .string({ unit: fc.constantFrom(..."abcXYZ019 _-.,()'~%+*é漢😀=&:@;$!?#/"), minLength: 1, maxLength: 16 })
    .filter((s) => !/[\u0000-\u001f]/.test(s));
  // Re-spell the canonical URI: escape a random kept character, lower-case a hex pair, or decode one.
  const respell = (uri: string, at: number, how: number): string => {
    const i = 1 + (at % Math.max(1, uri.length - 1));
    const c = uri[i]!;
    if (how === 0 && c !== "%")
      return uri.slice(0, i) + "%" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0") + uri.slice(i + 1);
    if (how === 1) return uri.replace(/%[0-9A-F]{2}/, (m) => m.toLowerCase());
    return uri.replace(/%2F|%20|%2B/, (m) => ({ "%2F": "/", "%20": "+", "%2B": "+" })[m]!);
  };
  fc.assert(
    fc.property(key, fc.nat(), fc.nat(2), (k, at, how) => {
      const uri = keyToUri(k);
      if (uriToKey(uri) !== k || canonicalKeyOf(uri) !== k) return false;
      const other = respell(uri, at, how);
      if (other === uri) return true;
      let sameObject: boolean;
      try {
        sameObject = uriToKey(other) === k;
      } catch {
        return true;
      }
      // A re-spelling of the same key must be refused; one that names another key is that key's own business.
      return !sameObject || refusalOf(() => canonicalKeyOf(other)).status === 400;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
